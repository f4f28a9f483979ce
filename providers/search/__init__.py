"""Search backends: the protocol, the registry by name, Exa, the knowledge base, in-memory, and past runs."""
