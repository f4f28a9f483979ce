"""The local knowledge base: documents chunked, embedded and stored, searchable by meaning. One interface, two stores.

Which store, and why:
- Redis (the default): RediSearch's vector index in the Redis Stack the library already runs (or REDIS_URL). A
  server, so any number of processes on the machine (CLI runs, `nexa serve`, workers, Studio, evals) share one
  knowledge base, and opening it costs one round trip: nothing is loaded into the opening process.
- Qdrant: a Qdrant server when QDRANT_URL is set (shared, scales past one machine), or embedded Qdrant under
  `<data_dir>/qdrant` when NEXA_KB=qdrant. Embedded Qdrant is a library, not a server: it takes an exclusive
  lock on its folder (a second process fails with "Storage folder ... is already accessed by another instance
  of Qdrant client") and loads the whole collection into the opening process (about 1.5 s for the Wikipedia
  corpus). It suits one process that owns its data, e.g. a notebook.
No Qdrant server can be installed on these machines, so the shared embedded default has to be Redis.
`open_knowledge_base(settings)` is the one way code gets a knowledge base; bench/README.md has the measurements.

Both stores score by cosine similarity of L2-normalised MiniLM vectors (1 is identical), so thresholds mean the
same in either. Writes are idempotent and shared here: ids come from (URL, chunk number) (kb/chunks.py), unchanged
chunks are neither embedded nor written again, and chunks left over from a longer old version are deleted.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from nexa_research.providers.kb.chunks import (
    CHUNK_OVERLAP,
    CHUNK_SIZE,
    Chunker,
    ChunkRecord,
    Hit,
    StoredPoint,
    batches,
    point_id,
    unit_vectors,
)
from nexa_research.providers.kb.embeddings import Embedder, default_embedder
from nexa_research.providers.kb.filters import SearchFilters
from nexa_research.providers.settings import ProviderSettings

__all__ = ["Hit", "KnowledgeBase", "open_knowledge_base", "point_id", "resolve_kb_store"]

Progress = Callable[[int, int], None]


class KnowledgeBase(ABC):
    """Chunks, embeds and stores documents; answers semantic searches with optional filters.

    Filters (kb/filters.py): `source`, `published_after`, `published_before`. Store failures (unreachable, refused,
    locked) are raised as `SearchBackendError` naming the store; anything else is a bug and surfaces as it is.
    """

    store: str  # "redis" or "qdrant", for messages and `nexa doctor`
    location: str  # where the data is (URL without password, or folder)

    def __init__(
        self,
        collection: str,
        embedder: Embedder | None = None,
        chunk_size: int = CHUNK_SIZE,
        chunk_overlap: int = CHUNK_OVERLAP,
    ) -> None:
        self.collection = collection
        self.embedder: Embedder = embedder or default_embedder()
        self.chunker = Chunker(chunk_size, chunk_overlap)

    # what each store implements
    @abstractmethod
    def count(self, filters: Mapping[str, Any] | None = None) -> int:
        """Exact number of stored chunks (matching `filters` when given)."""

    @abstractmethod
    def _nearest(
        self, vector: list[float], k: int, filters: SearchFilters | None, threshold: float | None, with_vectors: bool
    ) -> list[Hit]:
        """The `k` chunks most similar to `vector` (unit length), best first, scores above `threshold` only."""

    @abstractmethod
    def _stored_payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The payloads stored under those ids (absent ids are left out)."""

    @abstractmethod
    def _write(self, points: Sequence[StoredPoint]) -> None:
        """Store (or replace) these points."""

    @abstractmethod
    def _delete(self, ids: Sequence[str]) -> None:
        """Remove these ids; absent ones are ignored."""

    @abstractmethod
    def export(self, batch_size: int = 1024) -> Iterator[list[StoredPoint]]:
        """Every stored point with its vector, in batches: what `import_points` of another store takes."""

    @abstractmethod
    def payloads(self, batch_size: int = 2048) -> Iterator[list[dict[str, Any]]]:
        """Every stored chunk's payload (url, title, text, chunk, ...), without vectors, in batches: what a
        lookup by words reads (providers/search/naming.py)."""

    @abstractmethod
    def collections(self) -> dict[str, int]:
        """Every collection of this store (this one included) with its number of chunks: `nexa collections`."""

    @abstractmethod
    def drop(self) -> None:
        """Delete this collection with every chunk in it (`nexa collections --drop NAME`)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection or folder; safe to call twice."""

    # shared behaviour
    def delete_chunks(self, ids: Sequence[str]) -> None:
        """Remove stored chunks by id (`point_id(url, n)`); absent ids are ignored."""
        for batch in batches(ids, 1024):
            self._delete(batch)

    def chunk(self, text: str) -> list[str]:
        return self.chunker.split(text)

    def add_documents(
        self,
        documents: Iterable[Mapping[str, Any]],
        *,
        source: str,
        progress: Progress | None = None,
        batch_size: int = 512,
    ) -> int:
        """Store documents ({url, title, text, published?}); return how many chunks they have in the store.

        `progress(done, total)` is called with the chunk counts once the documents are chunked, and after each
        batch written. Unchanged chunks count as done at once: they are neither embedded nor written again.
        """
        records = self.chunker.records(documents, source)
        if progress is not None:
            progress(0, len(records))
        changed = self._prune_and_diff(records)
        done = len(records) - len(changed)
        if progress is not None and done:
            progress(done, len(records))
        # Longest first: texts of one batch have similar lengths (less padding), and the ETA errs on the long side.
        changed.sort(key=lambda record: len(record.embed_text), reverse=True)
        for batch in batches(changed, batch_size):
            vectors = unit_vectors(self.embedder.embed([r.embed_text for r in batch]), self.embedder.dim).tolist()
            self._write([StoredPoint(r.id, r.payload, v) for r, v in zip(batch, vectors, strict=True)])
            done += len(batch)
            if progress is not None:
                progress(done, len(records))
        return len(records)

    def import_points(
        self, points: Iterable[Sequence[StoredPoint]], *, total: int = 0, progress: Progress | None = None
    ) -> int:
        """Store points exported from another store, vectors included (nothing is embedded); return how many.

        Unchanged points are skipped, so a copy that was interrupted resumes where it stopped. `total` is only
        for `progress(done, total)`.
        """
        done = 0
        for batch in points:
            stored = self._stored_payloads([p.id for p in batch])
            changed = [p for p in batch if stored.get(p.id) != p.payload]
            if changed:
                unit = unit_vectors([p.vector for p in changed], self.embedder.dim).tolist()
                self._write([StoredPoint(p.id, p.payload, v) for p, v in zip(changed, unit, strict=True)])
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))
        return done

    def _prune_and_diff(self, records: Sequence[ChunkRecord]) -> list[ChunkRecord]:
        """Delete chunks left over from longer old versions; return the records not already stored as they are."""
        changed: list[ChunkRecord] = []
        stale: list[str] = []
        for batch in batches(records, 1024):
            existing = self._stored_payloads([r.id for r in batch])
            for record in batch:
                old, new = existing.get(record.id), record.payload
                if new["chunk"] == 0 and old is not None and int(old.get("chunks", 0)) > new["chunks"]:
                    stale += [point_id(new["url"], n) for n in range(new["chunks"], int(old["chunks"]))]
                if old != new:
                    changed.append(record)
        if stale:
            self._delete(stale)
        return changed

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
        score_threshold: float | None = None,
        *,
        with_vectors: bool = False,
    ) -> list[Hit]:
        """Chunks closest in meaning to `query`, best first, at most `k`, none at or below `score_threshold`."""
        parsed = SearchFilters.parse(filters)
        vector = unit_vectors(self.embedder.embed([query]), self.embedder.dim)[0].tolist()
        return self._nearest(vector, k, parsed, score_threshold, with_vectors)

    def describe(self) -> str:
        return f"{self.store} at {self.location}, collection {self.collection!r}"

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolve_kb_store(settings: ProviderSettings) -> Literal["redis", "qdrant"]:
    """NEXA_KB when it names a store; `auto`: Qdrant when QDRANT_URL is set (a shared server), else Redis."""
    if settings.kb_store != "auto":
        return settings.kb_store
    return "qdrant" if settings.qdrant_url else "redis"


def open_knowledge_base(
    settings: ProviderSettings | None = None, *, collection: str | None = None, embedder: Embedder | None = None
) -> KnowledgeBase:
    """The knowledge base the settings name, with their credentials: the one way code opens one.

    `collection`: another collection in the same store (research memory keeps its own); default the settings'
    (NEXA_KB_COLLECTION). `embedder`: default the process-wide MiniLM.
    """
    settings = settings or ProviderSettings.load()
    name = collection or settings.qdrant_collection
    if resolve_kb_store(settings) == "qdrant":
        from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase

        if settings.qdrant_url:
            key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
            return QdrantKnowledgeBase(url=settings.qdrant_url, api_key=key, collection=name, embedder=embedder)
        return QdrantKnowledgeBase(path=embedded_qdrant_folder(settings), collection=name, embedder=embedder)
    from nexa_research.providers.kb.redis_store import RedisKnowledgeBase
    from nexa_research.providers.services.redis_server import ensure_redis_url

    return RedisKnowledgeBase(ensure_redis_url(settings), collection=name, embedder=embedder)


def embedded_qdrant_folder(settings: ProviderSettings) -> Path:
    """Where embedded Qdrant keeps its data (also where earlier versions of the library ingested)."""
    return settings.resolved_data_dir / "qdrant"
