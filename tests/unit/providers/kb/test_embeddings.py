"""MiniLM embeddings: normalised 384-dim vectors, the same in batches as one by one, thread settings untouched."""

from __future__ import annotations

import math

import torch

from nexa_research.providers.kb.embeddings import MiniLMEmbedder, default_embedder


def test_embedder_gives_normalised_384_dim_vectors():
    vectors = default_embedder().embed(["printing press", "photosynthesis in plants"])
    assert len(vectors) == 2 and all(len(v) == 384 for v in vectors)
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-4) for v in vectors)


def test_many_texts_embed_in_length_batches_in_input_order_like_single_queries():
    texts = [f"{word} " * n for word, n in [("tides", 3), ("volcano", 40), ("bread", 1), ("printing press", 90),
                                             ("glacier", 12), ("honey bee", 60), ("comet", 5), ("moon", 25),
                                             ("Gutenberg", 150), ("fjord", 8)]]
    threads = torch.get_num_threads()
    for bfloat16 in (True, False):  # hardware bfloat16 or not, whatever this machine has
        many = MiniLMEmbedder(batch_size=3, bfloat16=bfloat16).embed(texts)
        assert torch.get_num_threads() == threads
        singles = [default_embedder().embed([t])[0] for t in texts]
        for text, a, b in zip(texts, many, singles, strict=True):
            assert math.fsum(x * y for x, y in zip(a, b, strict=True)) > 0.999, text[:20]
            assert math.isclose(math.fsum(x * x for x in a), 1.0, rel_tol=1e-4)
