"""The knowledge base in Qdrant: a Qdrant server (QDRANT_URL, with QDRANT_API_KEY), or embedded Qdrant on disk.

Embedded Qdrant allows ONE client per folder (it takes a file lock), yet the CLI, the server and every research
branch want a knowledge base. Within a process, clients live in a registry keyed by location (qdrant_clients):
any number of knowledge bases may be open on one folder; they share its client, and the client closes with the
last one. Another *process* on the same folder fails with a `SearchBackendError` that says to use the shared
Redis knowledge base or a Qdrant server instead (see kb/store.py for the choice).

The collection scores by dot product over vectors normalised before they are stored, which is cosine similarity
without embedded Qdrant re-normalising all stored vectors on every query (that alone cost ~10 ms at 10k chunks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.common.client_exceptions import QdrantException
from qdrant_client.http.exceptions import ApiException

from nexa_research.errors import SearchBackendError
from nexa_research.providers.kb.chunks import Hit, StoredPoint, stored_payload
from nexa_research.providers.kb.embeddings import Embedder
from nexa_research.providers.kb.filters import SearchFilters
from nexa_research.providers.kb.qdrant_clients import acquire_client, one_blas_thread, relax_commit_sync, release_client
from nexa_research.providers.kb.store import KnowledgeBase

# Failures of the store: server answers, transport errors (qdrant-client wraps httpx's as ApiException), the
# disk. Opening also meets the embedded folder lock (a RuntimeError). A ValueError or TypeError from a call is
# an argument we got wrong: a bug, left to surface rather than reported as an unavailable store.
QDRANT_FAILURES: tuple[type[BaseException], ...] = (ApiException, QdrantException, OSError)
OPEN_FAILURES = (*QDRANT_FAILURES, RuntimeError)
_SHARING_HINT = ("embedded Qdrant admits one process per folder: use the shared Redis knowledge base (unset "
                 "NEXA_KB, or NEXA_KB=redis) or a Qdrant server (QDRANT_URL)")


class QdrantKnowledgeBase(KnowledgeBase):
    """A knowledge base in one Qdrant collection; exactly one of `path` (embedded) or `url` (server)."""

    store = "qdrant"
    prefilter_window = 100

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        collection: str = "nexa_kb",
        embedder: Embedder | None = None,
        **chunking: int,
    ) -> None:
        if (path is None) == (url is None):
            raise ValueError("QdrantKnowledgeBase needs exactly one of path= (embedded Qdrant) or url= (Qdrant server)")
        super().__init__(collection, embedder, **chunking)
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

        self._closed = False
        self._shared = self._guard("open", lambda: acquire_client(self._key, factory), OPEN_FAILURES)
        try:
            self._guard("prepare collection", self._ensure_collection, OPEN_FAILURES)
        except BaseException:
            self.close()
            raise

    def _error(self, what: str, reason: object) -> SearchBackendError:
        hint = f"; {_SHARING_HINT}" if "already accessed" in str(reason) else ""
        return SearchBackendError(
            f"knowledge base {what} failed (Qdrant at {self.location}, collection {self.collection!r}): {reason}{hint}",
            role="search",
            endpoint=self.location,
        )

    def _guard(self, what: str, call: Callable[[], Any], failures: tuple[type[BaseException], ...] = QDRANT_FAILURES) -> Any:
        try:
            return call()
        except failures as exc:
            raise self._error(what, exc) from exc

    def _client_call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._closed:
            raise SearchBackendError(f"knowledge base at {self.location} is closed", role="search", endpoint=self.location)
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
                    raise self._error("open", f"stored vectors have size {size}, the embedder gives {self.embedder.dim}")
            if not self._server:
                relax_commit_sync(client)

    def _stored_payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        points = self._client_call("read", "retrieve", self.collection, ids=list(ids), with_payload=True)
        return {str(p.id): dict(p.payload or {}) for p in points}

    def _write(self, points: Sequence[StoredPoint]) -> None:
        structs = [models.PointStruct(id=p.id, vector=p.vector, payload=p.payload) for p in points]
        self._client_call("write", "upsert", self.collection, points=structs)

    def _delete(self, ids: Sequence[str]) -> None:
        self._client_call("prune", "delete", self.collection, points_selector=models.PointIdsList(points=list(ids)))

    def export(self, batch_size: int = 1024) -> Iterator[list[StoredPoint]]:
        offset: Any = None
        while True:
            points, offset = self._client_call(
                "export", "scroll", self.collection, limit=batch_size, offset=offset, with_payload=True, with_vectors=True
            )
            if points:
                yield [StoredPoint(str(p.id), stored_payload(p.payload or {}), list(p.vector))
                       for p in points]
            if offset is None:
                return

    def payloads(self, batch_size: int = 2048) -> Iterator[list[dict[str, Any]]]:
        offset: Any = None
        while True:
            points, offset = self._client_call(
                "read", "scroll", self.collection, limit=batch_size, offset=offset, with_payload=True, with_vectors=False
            )
            if points:
                yield [stored_payload(p.payload or {}) for p in points]
            if offset is None:
                return

    def drop(self) -> None:
        self._client_call("drop", "delete_collection", self.collection)

    def collections(self) -> dict[str, int]:
        names = sorted(c.name for c in self._client_call("list collections", "get_collections").collections)
        return {n: int(self._client_call("count", "count", n, exact=True).count) for n in names}

    def count(self, filters: Mapping[str, Any] | None = None) -> int:
        parsed = SearchFilters.parse(filters)
        count_filter = parsed.to_qdrant() if parsed else None
        return int(self._client_call("count", "count", self.collection, count_filter=count_filter, exact=True).count)

    def _nearest(
        self, vector: list[float], k: int, filters: SearchFilters | None, threshold: float | None, with_vectors: bool
    ) -> list[Hit]:
        if filters is not None and not self._server:
            # Embedded mode: rank unfiltered and filter the top window (see kb/filters.py). Exact: if the window
            # holds k matches they are the best k matches; if it is not full, it holds every point above
            # the threshold.
            window = max(k * 10, self.prefilter_window)
            hits = self._query(vector, window, None, threshold, with_vectors)
            kept = [h for h in hits if filters.matches(h.payload)]
            if len(kept) >= k or len(hits) < window:
                return kept[:k]
        return self._query(vector, k, filters.to_qdrant() if filters else None, threshold, with_vectors)

    def _query(
        self, vector: list[float], limit: int, query_filter: models.Filter | None, threshold: float | None, vectors: bool
    ) -> list[Hit]:
        with one_blas_thread(not self._server):
            response = self._client_call(
                "search", "query_points", self.collection, query=vector, query_filter=query_filter, limit=limit,
                score_threshold=threshold, with_payload=True, with_vectors=vectors,
            )
        return [
            Hit.from_payload(p.payload or {}, p.score, p.vector if isinstance(p.vector, list) else None)
            for p in response.points
        ]

    def close(self) -> None:
        """Drop this object's share of the client; the client closes when no knowledge base uses it."""
        if not self._closed:
            self._closed = True
            release_client(self._key)
