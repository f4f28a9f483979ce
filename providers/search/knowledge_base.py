"""The `kb` search backend: semantic search over the local knowledge base (Redis or Qdrant), as research needs it.

Chunks overlap and corpora repeat themselves, so near-identical results are collapsed before they reach a
prompt: a result is dropped when an earlier (better) one has the same URL and the same text, or when their
vectors' cosine similarity exceeds `dedup_cosine`. To still return `k` results, more candidates are fetched.

Embedding and the store's query run in a worker thread: embedding takes milliseconds of CPU, and parallel
research branches share one event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nexa_research.config import ResearchConfig
from nexa_research.errors import SearchBackendError
from nexa_research.providers.kb.store import Hit, KnowledgeBase, open_knowledge_base
from nexa_research.providers.relevance import embedded_text, share_vectors
from nexa_research.providers.search.links import LinkLookup
from nexa_research.providers.search.naming import NameLookup
from nexa_research.providers.search.protocol import make_source
from nexa_research.providers.settings import ProviderSettings
from nexa_research.state import Source
from nexa_research.urls import normalize_url

logger = logging.getLogger(__name__)

BACKEND_NAME = "kb"
DEFAULT_SCORE_THRESHOLD = 0.25
DEFAULT_DEDUP_COSINE = 0.95
_OVERFETCH = 3


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()


def _cosine(a: list[float] | None, b: list[float] | None) -> float:
    """Vectors are stored normalised, so their dot product is the cosine."""
    if a is None or b is None:
        return 0.0
    return float(np.dot(a, b))


def deduplicate(hits: list[Hit], k: int, dedup_cosine: float = DEFAULT_DEDUP_COSINE) -> list[Hit]:
    """Keep the best of each group of near-identical hits, in score order, at most `k`."""
    kept: list[Hit] = []
    for hit in hits:
        duplicate = any(
            (normalize_url(hit.url) == normalize_url(other.url) and _same_text(hit.text, other.text))
            or _cosine(hit.vector, other.vector) > dedup_cosine
            for other in kept
        )
        if not duplicate:
            kept.append(hit)
            if len(kept) == k:
                break
    return kept


class KnowledgeBaseSearch:
    """`SearchBackend` over a `KnowledgeBase`. Filters: `source`, `published_after`, `published_before` (ISO dates)."""

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        dedup_cosine: float = DEFAULT_DEDUP_COSINE,
    ) -> None:
        self.kb = kb
        # a collection other than the default is part of the name, so cached searches and reports keep apart
        default = ProviderSettings.model_fields["qdrant_collection"].default
        self.name = BACKEND_NAME if kb.collection == default else f"{BACKEND_NAME}:{kb.collection}"
        self.score_threshold = score_threshold
        self.dedup_cosine = dedup_cosine
        self._known_nonempty = False
        self._names = NameLookup(kb)
        self._links = LinkLookup(self._names)

    def _check_not_empty(self) -> None:
        """An empty store would make every section "missing" with no clue why; say what to do instead."""
        if self._known_nonempty:
            return
        if self.kb.count() == 0:
            raise SearchBackendError(
                f"the knowledge base ({self.kb.describe()}) is empty; fill it first: `nexa ingest wikipedia` or "
                "`nexa ingest <folder>` (in Python: nexa_research.providers.kb.ingest.ingest_wikipedia / ingest_path); "
                "a knowledge base an earlier version ingested into embedded Qdrant is copied, without embedding "
                "again, by `nexa ingest qdrant`",
                role="search",
                endpoint=self.kb.location,
            )
        self._known_nonempty = True

    def search_sync(self, query: str, k: int, filters: Mapping[str, Any] | None = None) -> list[Source]:
        """The blocking search; `search` runs it in a thread."""
        if k <= 0 or not query.strip():
            return []
        self._check_not_empty()
        hits = self.kb.search(
            query, k=k * _OVERFETCH, filters=filters, score_threshold=self.score_threshold, with_vectors=True
        )
        kept = deduplicate(hits, k, self.dedup_cosine)
        logger.debug("kb search %r: %d hits, %d after de-duplication", query, len(hits), len(kept))
        sources = [
            make_source(url=h.url, title=h.title, text=h.text, score=round(h.score, 4), published=h.published,
                        chunk=h.chunk)
            for h in kept
        ]
        stored = [(s, h.vector) for s, h in zip(sources, kept, strict=True) if h.vector is not None]
        if stored:  # the gate scores each source as its embedded text: these are the vectors it would compute
            share_vectors(self.kb.embedder, [embedded_text(s["title"], s["text"]) for s, _ in stored],
                          [v for _, v in stored])
        return sources

    async def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Source]:
        return await asyncio.to_thread(self.search_sync, query, k, filters)

    async def naming(self, names: Sequence[str], limit: int) -> list[Source]:
        """Chunks whose text names one of `names` (providers/search/naming.py)."""
        return await asyncio.to_thread(self._names.naming, names, limit)

    async def linked(self, urls: Sequence[str], limit: int) -> list[Source]:
        """The sections and pages the documents at `urls` link to (providers/search/links.py)."""
        return await asyncio.to_thread(self._links.linked, urls, limit)

    def close(self) -> None:
        self.kb.close()


def backend_from_settings(cfg: ResearchConfig, settings: ProviderSettings) -> KnowledgeBaseSearch:
    """The registry's factory: the knowledge base the settings name (`open_knowledge_base`), in the run's
    `kb_collection` when it names one.

    Opening is cheap after the first time in a process: the embedding model is shared, and so is an embedded
    Qdrant client.
    """
    return KnowledgeBaseSearch(open_knowledge_base(settings, collection=cfg.kb_collection))
