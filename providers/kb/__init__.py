"""The local knowledge base: one interface over the Redis and Qdrant stores, chunking, embeddings and ingest."""
