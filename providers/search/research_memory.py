"""Memory across runs: what one run finds, later runs can find again, even offline.

Sources a run gathers from a non-local backend (Exa, a registered web backend) are stored in their own
knowledge-base collection (`<collection>_memory`, in the same store as the knowledge base, opened by the same
factory with the same credentials) with their URL, and every search also looks there. The memory is a separate
collection because knowledge-base chunk ids come from (URL, chunk number): writing search results into the
knowledge base itself could overwrite an ingested chunk of the same page.

The memory is optional: when its store fails, the search keeps what the run's backend found and the section
records a warning (see search/outcome.py). Only store failures (`SearchBackendError`) are absorbed; anything else
is a bug and surfaces.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from nexa_research.errors import SearchBackendError, ServiceStartError
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.kb.store import KnowledgeBase, open_knowledge_base
from nexa_research.providers.search.knowledge_base import BACKEND_NAME, KnowledgeBaseSearch
from nexa_research.providers.search.outcome import SearchOutcome, search_outcome
from nexa_research.providers.search.protocol import SearchBackend
from nexa_research.providers.services.redis_server import RedisModulesMissingError, RedisUnavailableError
from nexa_research.providers.settings import ProviderSettings
from nexa_research.state import Source
from nexa_research.urls import normalize_url

logger = logging.getLogger(__name__)

MEMORY_SOURCE = "research"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
LOCAL_BACKENDS = frozenset({BACKEND_NAME})  # already on this machine: nothing to remember
# Why a memory store may fail to open: the store itself, or the embedded Redis it lives in (not bugs).
OPEN_FAILURES = (SearchBackendError, RedisUnavailableError, RedisModulesMissingError, ServiceStartError)


def open_memory(settings: ProviderSettings) -> KnowledgeBase:
    """The memory collection, in the knowledge base's store (same credentials), embedding with the shared model."""
    return open_knowledge_base(
        settings, collection=f"{settings.qdrant_collection}_memory", embedder=default_embedder()
    )


def _iso_date_or_none(value: str | None) -> str | None:
    """Backends report dates in many shapes; the store takes ISO dates only, so anything else is dropped."""
    return value if value and _ISO_DATE.match(value) else None


class RememberingSearch:
    """The run's backend first, then prior research for what it lacks; what the backend finds is remembered.

    The memory store is opened on first use, not when the backend is built: a memory that cannot be opened at all
    (its Redis down, a Qdrant server refusing the key) then costs each search a warning, never the run.
    """

    def __init__(self, backend: SearchBackend, open_store: Callable[[], KnowledgeBase], *, extra: int | None = None) -> None:
        self.backend = backend
        self.name = backend.name
        self.extra = extra
        self._open_store = open_store
        self._memory: KnowledgeBase | None = None
        self._opening = threading.Lock()

    def _open_once(self) -> KnowledgeBase:
        with self._opening:
            if self._memory is None:
                self._memory = self._open_store()
            return self._memory

    async def memory(self) -> KnowledgeBase:
        """The memory collection, opened now if this is its first use; a store that cannot be opened is a
        `SearchBackendError` like any other store failure."""
        try:
            return await asyncio.to_thread(self._open_once)
        except OPEN_FAILURES as exc:
            raise SearchBackendError(f"cannot open the research memory: {exc}") from exc

    async def remember(self, sources: list[Source]) -> int:
        if self.backend.name.split(":", 1)[0] in LOCAL_BACKENDS or not sources:
            return 0
        docs = [
            {"url": s["url"], "title": s["title"], "text": s["text"], "published": _iso_date_or_none(s["published"])}
            for s in sources
        ]
        memory = await self.memory()
        return await asyncio.to_thread(memory.add_documents, docs, source=MEMORY_SOURCE)

    async def recall(self, query: str, k: int) -> list[Source]:
        memory = await self.memory()
        if await asyncio.to_thread(memory.count) == 0:
            return []
        return await KnowledgeBaseSearch(memory).search(query, k)

    def close(self) -> None:
        """Release the memory collection (if it was opened) and, if it has one, the wrapped backend."""
        memory, self._memory = self._memory, None
        if memory is not None:
            memory.close()
        close = getattr(self.backend, "close", None)
        if callable(close):
            close()

    async def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Source]:
        return (await self.search_outcome(query, k, filters)).sources

    async def search_outcome(self, query: str, k: int, filters: dict[str, Any] | None = None) -> SearchOutcome:
        found = await search_outcome(self.backend, query, k, filters)
        warnings = list(found.warnings)
        try:
            await self.remember(found.sources)
        except SearchBackendError as exc:
            warnings.append(self._degraded("did not store this search's results", exc))
        try:
            recalled = await self.recall(query, k)
        except SearchBackendError as exc:
            recalled = []
            warnings.append(self._degraded("was not searched", exc))
        seen = {normalize_url(s["url"]) for s in found.sources}
        extra = self.extra if self.extra is not None else max(1, k // 2)
        prior = [s for s in recalled if normalize_url(s["url"]) not in seen]
        return SearchOutcome(found.sources + prior[:extra], found.cache_hit, warnings)

    def _degraded(self, what: str, exc: SearchBackendError) -> str:
        message = f"research memory {what}: {exc}"
        logger.warning("%s; the search keeps the results of '%s'", message, self.backend.name)
        return message
