"""The local knowledge base: documents chunked, embedded and stored in Qdrant, searchable by meaning.

Embedded on-disk Qdrant (`<data_dir>/qdrant`) is the default; a Qdrant server is used when QDRANT_URL is set.
Embedded Qdrant allows ONE client per folder per process (it takes a file lock), yet the CLI, the server and
every research branch want a knowledge base. So clients live in a process-wide registry keyed by location:
any number of `KnowledgeBase` objects may be open on one folder; they share its client, each `close()` drops
one reference, and the client closes with the last one. Another *process* on the same folder still fails
(with a `SearchBackendError` saying so): use a Qdrant server for that.

Writes are idempotent: a chunk's point id is uuid5 of (normalised URL, chunk index), so re-ingesting replaces
instead of duplicating, unchanged chunks are not re-embedded, and chunks left over from a longer old version
of a document are deleted.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter
from qdrant_client import QdrantClient, models
from qdrant_client.common.client_exceptions import QdrantException
from qdrant_client.http.exceptions import ApiException

from nexa_research.errors import ResearchInputError, SearchBackendError
from nexa_research.providers.embeddings import Embedder, default_embedder
from nexa_research.providers.kb_filters import SearchFilters, parse_iso
from nexa_research.providers.qdrant_clients import (
    acquire_client,
    one_blas_thread,
    relax_commit_sync,
    release_client,
)
from nexa_research.providers.settings import ProviderSettings
from nexa_research.urls import normalize_url

logger = logging.getLogger(__name__)

CHUNK_SIZE = 800
CHUNK_OVERLAP = 100
# Failures of the store itself: server answers, transport errors, the embedded folder lock, a closed client,
# a missing collection (local mode raises ValueError). Wrapped so callers see one error type naming the place.
QDRANT_FAILURES = (ApiException, QdrantException, OSError, RuntimeError, ValueError)


@dataclass(frozen=True)
class Hit:
    """One stored chunk returned by a search, with its cosine score and (when asked) its vector."""

    url: str
    title: str
    text: str
    source: str
    published: str | None
    chunk: int
    score: float
    vector: list[float] | None = None

    @property
    def payload(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.title, "text": self.text, "source": self.source,
                "published": self.published, "chunk": self.chunk}

    @classmethod
    def from_point(cls, point: models.ScoredPoint) -> Hit:
        p = point.payload or {}
        return cls(url=p.get("url", ""), title=p.get("title", ""), text=p.get("text", ""), source=p.get("source", ""),
                   published=p.get("published"), chunk=int(p.get("chunk", 0)), score=float(point.score),
                   vector=point.vector if isinstance(point.vector, list) else None)


def point_id(url: str, chunk: int) -> str:
    """Deterministic id of one chunk, so the same document always lands on the same points."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{normalize_url(url)}#{chunk}"))


def _published(value: Any, url: str) -> str | None:
    """Stored as an ISO string, checked now: a malformed date would silently never match a date filter."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    parse_iso(value, f"document {url}: published")
    return str(value)


def _unit(vectors: list[list[float]]) -> list[list[float]]:
    """L2-normalise, whatever the embedder did: the collection uses dot product, which equals cosine only so."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).tolist()


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class KnowledgeBase:
    """Chunks, embeds and stores documents; answers semantic searches with optional payload filters.

    The collection scores by dot product over vectors normalised here, which is cosine similarity without
    embedded Qdrant re-normalising all stored vectors on every query (that alone cost ~10 ms at 10k chunks).
    """

    prefilter_window = 100

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        collection: str = "nexa_kb",
        embedder: Embedder | None = None,
        chunk_size: int = CHUNK_SIZE,
        chunk_overlap: int = CHUNK_OVERLAP,
    ) -> None:
        if (path is None) == (url is None):
            raise ValueError("KnowledgeBase needs exactly one of path= (embedded Qdrant) or url= (Qdrant server)")
        self.collection = collection
        self.embedder: Embedder = embedder or default_embedder()
        self._splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        self._server = url is not None
        if url is not None:
            self.location = url
            self._key = f"url:{url}"
            # No version probe: it only warns; the collection check below fails naming the URL instead.
            factory: Callable[[], QdrantClient] = lambda: QdrantClient(  # noqa: E731
                url=url, api_key=api_key, check_compatibility=False
            )
        else:
            folder = Path(path).expanduser().resolve()  # type: ignore[arg-type]
            self.location = str(folder)
            self._key = f"path:{folder}"

            def factory() -> QdrantClient:
                folder.mkdir(parents=True, exist_ok=True)
                return QdrantClient(path=str(folder))

        self._shared = self._guard("open", lambda: acquire_client(self._key, factory))
        self._closed = False
        try:
            self._guard("prepare collection", self._ensure_collection)
        except SearchBackendError:
            self.close()
            raise

    @classmethod
    def from_settings(
        cls, settings: ProviderSettings | None = None, *, embedder: Embedder | None = None
    ) -> KnowledgeBase:
        """QDRANT_URL when set, else embedded Qdrant under `<data_dir>/qdrant`; collection NEXA_QDRANT_COLLECTION."""
        settings = settings or ProviderSettings.load()
        if settings.qdrant_url:
            key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
            return cls(url=settings.qdrant_url, api_key=key, collection=settings.qdrant_collection, embedder=embedder)
        return cls(path=settings.resolved_data_dir / "qdrant", collection=settings.qdrant_collection, embedder=embedder)

    def _guard(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except QDRANT_FAILURES as exc:
            raise SearchBackendError(
                f"knowledge base {what} failed (Qdrant at {self.location}, collection {self.collection!r}): {exc}",
                role="search",
                endpoint=self.location,
            ) from exc

    def _client_call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._closed:
            raise SearchBackendError(
                f"knowledge base at {self.location} is closed", role="search", endpoint=self.location
            )
        with self._shared.lock:
            return self._guard(what, lambda: getattr(self._shared.client, method)(*args, **kwargs))

    def _ensure_collection(self) -> None:
        client = self._shared.client
        with self._shared.lock:
            if not client.collection_exists(self.collection):
                client.create_collection(
                    self.collection,
                    vectors_config=models.VectorParams(size=self.embedder.dim, distance=models.Distance.DOT),
                )
                if self._server:
                    client.create_payload_index(self.collection, "source", models.PayloadSchemaType.KEYWORD)
                    client.create_payload_index(self.collection, "published", models.PayloadSchemaType.DATETIME)
            else:
                params = client.get_collection(self.collection).config.params.vectors
                size = getattr(params, "size", None)
                if size != self.embedder.dim:
                    raise ValueError(f"stored vectors have size {size}, the embedder gives {self.embedder.dim}")
            if not self._server:
                relax_commit_sync(client)

    def chunk(self, text: str) -> list[str]:
        return [c.strip() for c in self._splitter.split_text(text) if c.strip()]

    def add_documents(
        self,
        documents: Iterable[Mapping[str, Any]],
        *,
        source: str,
        progress: Callable[[int, int], None] | None = None,
        batch_size: int = 512,
    ) -> int:
        """Store documents ({url, title, text, published?}); return how many chunks they have in the store.

        `progress(done, total)` is called with the chunk counts once the documents are chunked, and after each
        batch written. Unchanged chunks count as done at once: they are neither embedded nor written again.
        """
        records = self._records(documents, source)
        if progress is not None:
            progress(0, len(records))
        changed = self._prune_and_diff(records)
        done = len(records) - len(changed)
        if progress is not None and done:
            progress(done, len(records))
        # Longest first: texts of one batch have similar lengths (less padding), and the ETA errs on the long side.
        changed.sort(key=lambda record: len(record[2]), reverse=True)
        for batch in _batches(changed, batch_size):
            vectors = _unit(self.embedder.embed([text for _, _, text in batch]))
            points = [
                models.PointStruct(id=pid, vector=vector, payload=payload)
                for (pid, payload, _), vector in zip(batch, vectors, strict=True)
            ]
            self._client_call("write", "upsert", self.collection, points=points)
            done += len(batch)
            if progress is not None:
                progress(done, len(records))
        return len(records)

    def _records(self, documents: Iterable[Mapping[str, Any]], source: str) -> list[tuple[str, dict[str, Any], str]]:
        """(point id, payload, text to embed) of every chunk; a later copy of the same URL wins."""
        by_url: dict[str, Mapping[str, Any]] = {}
        for i, doc in enumerate(documents):
            url = str(doc.get("url") or "").strip()
            if not url:
                raise ResearchInputError(f"document #{i} ({doc.get('title')!r}) has no url")
            by_url[normalize_url(url)] = doc
        records: list[tuple[str, dict[str, Any], str]] = []
        for doc in by_url.values():
            url, title = str(doc["url"]).strip(), str(doc.get("title") or doc["url"]).strip()
            published = _published(doc.get("published"), url)
            chunks = self.chunk(str(doc.get("text") or ""))
            if not chunks:
                logger.warning("knowledge base: document %s has no text; nothing stored for it", url)
            for n, text in enumerate(chunks):
                payload = {"url": url, "title": title, "text": text, "source": source,
                           "published": published, "chunk": n, "chunks": len(chunks)}
                records.append((point_id(url, n), payload, f"{title}\n{text}"))
        return records

    def _prune_and_diff(
        self, records: Sequence[tuple[str, dict[str, Any], str]]
    ) -> list[tuple[str, dict[str, Any], str]]:
        """Delete chunks left over from longer old versions; return the records not already stored as they are."""
        changed = []
        stale: list[str] = []
        for batch in _batches(records, 1024):
            existing = {
                str(r.id): r.payload or {}
                for r in self._client_call(
                    "read", "retrieve", self.collection, ids=[pid for pid, _, _ in batch], with_payload=True
                )
            }
            for pid, payload, embed_text in batch:
                old = existing.get(pid)
                if payload["chunk"] == 0 and old is not None and int(old.get("chunks", 0)) > payload["chunks"]:
                    stale += [point_id(payload["url"], n) for n in range(payload["chunks"], int(old["chunks"]))]
                if old != payload:
                    changed.append((pid, payload, embed_text))
        if stale:
            self._client_call("prune", "delete", self.collection, points_selector=models.PointIdsList(points=stale))
        return changed

    def count(self, filters: Mapping[str, Any] | None = None) -> int:
        """Exact number of stored chunks (matching `filters` when given)."""
        parsed = SearchFilters.parse(filters)
        count_filter = parsed.to_qdrant() if parsed else None
        return int(self._client_call("count", "count", self.collection, count_filter=count_filter, exact=True).count)

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
        vector = _unit(self.embedder.embed([query]))[0]
        if parsed is not None and not self._server:
            # Embedded mode: rank unfiltered and filter the top window (see kb_filters). Exact: if the window
            # holds k matches they are the best k matches; if it is not full, it holds every point above
            # the threshold.
            window = max(k * 10, self.prefilter_window)
            hits = self._query(vector, window, None, score_threshold, with_vectors)
            kept = [h for h in hits if parsed.matches(h.payload)]
            if len(kept) >= k or len(hits) < window:
                return kept[:k]
        query_filter = parsed.to_qdrant() if parsed else None
        return self._query(vector, k, query_filter, score_threshold, with_vectors)

    def _query(
        self,
        vector: list[float],
        limit: int,
        query_filter: models.Filter | None,
        threshold: float | None,
        vectors: bool,
    ) -> list[Hit]:
        with one_blas_thread(not self._server):
            response = self._client_call(
                "search", "query_points", self.collection, query=vector, query_filter=query_filter, limit=limit,
                score_threshold=threshold, with_payload=True, with_vectors=vectors,
            )
        return [Hit.from_point(point) for point in response.points]

    def close(self) -> None:
        """Drop this object's share of the client; the client closes when no knowledge base uses it."""
        if not self._closed:
            self._closed = True
            release_client(self._key)

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
