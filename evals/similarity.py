"""Cosine similarity of sentence embeddings, the one measure of closeness in meaning the evaluators use.

The evaluators compare the same texts many times (a passage against the topic, against a section title, its
sentences against every cited sentence), so vectors are cached per text for the life of one `Similarity`. The
embedder is the project's all-MiniLM-L6-v2 by default, because the thresholds in data/calibration.json were
calibrated with it; another embedder needs its own calibration (`python -m nexa_research.evals.calibrate`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nexa_research.providers.kb.embeddings import Embedder


class Similarity:
    """Cached embeddings and cosine matrices. Vectors are L2-normalised, so a dot product is the cosine."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from nexa_research.providers.kb.embeddings import default_embedder

            self._embedder = default_embedder()
        return self._embedder

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing), strict=True):
                self._vectors[text] = np.asarray(vector, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def matrix(self, rows: Sequence[str], columns: Sequence[str]) -> np.ndarray:
        """Cosine of every row text with every column text, shape (len(rows), len(columns))."""
        if not rows or not columns:
            return np.zeros((len(rows), len(columns)), dtype=np.float32)
        self.vectors([*rows, *columns])  # one embedding call for both sides
        return self.vectors(rows) @ self.vectors(columns).T

    def pairs(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        """Cosine of left[i] with right[i] for each i."""
        if len(left) != len(right):
            raise ValueError(f"pairs need equal lengths, got {len(left)} and {len(right)}")
        if not left:
            return np.zeros(0, dtype=np.float32)
        self.vectors([*left, *right])
        return np.einsum("ij,ij->i", self.vectors(left), self.vectors(right))
