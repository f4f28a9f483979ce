"""The knowledge base in Redis: a RediSearch vector index (through redisvl) over one hash per chunk.

Why Redis is the default store: see kb/store.py. In short, it is a server every process on the machine
already shares (checkpoints and caches live there), so CLI runs, servers and workers use one knowledge base at
once, and opening it costs a round trip instead of loading the collection into each process.

Layout: index `nexa:kb:<collection>` over hashes `nexa:kb:<collection>:<chunk id>` (the same uuid5 ids as in
Qdrant), holding the payload fields, `published_ts` (POSIX seconds; absent when undated, indexed as missing so
"published before X" keeps undated chunks as Qdrant does) and `embedding` (float32 bytes).
Indexed is only what queries use: `source` and `url` (TAG), `published_ts` (NUMERIC), `embedding` (VECTOR).
`title` and `text` are stored and returned but not full-text indexed: on the Wikipedia corpus that index made
every server start 0.8 s longer (AOF replay re-indexes) and took 21 MB, for a keyword search nothing runs;
FT.ALTER can add it to a filled index when something does (bench/kb.md, bench_kb_schema.py).
The vector field is FLAT with COSINE distance: FLAT is an exact scan, so results equal Qdrant's exact search
and filters apply inside the query; at ~11k chunks a scan takes 3 ms. HNSW measured no faster at this size and
made a server start 3 s. RediSearch returns the cosine DISTANCE (1 - cos); it is turned back into similarity,
so score thresholds mean what they mean with Qdrant.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import redis
from redisvl.exceptions import RedisVLError
from redisvl.index import SearchIndex
from redisvl.query import CountQuery, VectorQuery
from redisvl.schema import IndexSchema

from nexa_research.errors import ResearchInputError, SearchBackendError
from nexa_research.providers.kb.chunks import (
    OPTIONAL_PAYLOAD_KEYS,
    PAYLOAD_KEYS,
    Hit,
    StoredPoint,
    batches,
    stored_payload,
)
from nexa_research.providers.kb.embeddings import Embedder
from nexa_research.providers.kb.filters import REDIS_PUBLISHED_FIELD, REDIS_SOURCE_FIELD, SearchFilters, parse_iso
from nexa_research.providers.kb.store import KnowledgeBase
from nexa_research.providers.services.redis_server import redact_url

logger = logging.getLogger(__name__)

VECTOR_FIELD = "embedding"
# A hung Redis must fail a search (which the research node retries, then reports) rather than stall it.
CONNECT_TIMEOUT, COMMAND_TIMEOUT = 5.0, 30.0
# RediSearch's own query timeout (500 ms by default) ends a slow query with whatever it found so far, silently:
# on a busy machine that would be a wrong ranking. Queries get nearly the client's patience instead.
QUERY_TIMEOUT_MS = 25_000
# Failures of the store: unreachable, timed out, refused (out of memory, read-only replica, missing index).
REDIS_FAILURES: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def index_schema(collection: str, dim: int) -> IndexSchema:
    return IndexSchema.from_dict({
        "index": {"name": f"nexa:kb:{collection}", "prefix": f"nexa:kb:{collection}:", "storage_type": "hash"},
        "fields": [
            {"name": "url", "type": "tag"},
            {"name": REDIS_SOURCE_FIELD, "type": "tag"},
            {"name": REDIS_PUBLISHED_FIELD, "type": "numeric", "attrs": {"index_missing": True}},
            {"name": VECTOR_FIELD, "type": "vector",
             "attrs": {"dims": dim, "distance_metric": "cosine", "algorithm": "flat", "datatype": "float32"}},
        ],
    })  # fmt: skip


class RedisKnowledgeBase(KnowledgeBase):
    """A knowledge base in one RediSearch index of the Redis at `url` (which needs the Search module)."""

    store = "redis"

    def __init__(self, url: str, *, collection: str = "nexa_kb", embedder: Embedder | None = None, **chunking: int) -> None:
        if not _COLLECTION_NAME.fullmatch(collection):
            raise ResearchInputError(f"knowledge-base collection {collection!r}: use letters, digits, '_', '.', '-'")
        super().__init__(collection, embedder, **chunking)
        self.location = redact_url(url)
        self.schema = index_schema(collection, self.embedder.dim)
        self.prefix = str(self.schema.index.prefix)
        self._client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT)
        self._index = SearchIndex(self.schema, redis_client=self._client)
        self._closed = False
        try:
            self._guard("open", self._ensure_index)
        except BaseException:
            self.close()
            raise

    def _error(self, what: str, reason: object) -> SearchBackendError:
        return SearchBackendError(
            f"knowledge base {what} failed (Redis at {self.location}, index {self.schema.index.name!r}): {reason}",
            role="search",
            endpoint=self.location,
        )

    def _guard(self, what: str, call: Callable[[], Any]) -> Any:
        """Store failures become `SearchBackendError`. redisvl wraps every exception, bugs included, in its own
        types: only those caused by Redis are the store's; the others surface as they are."""
        if self._closed:
            raise self._error(what, "the knowledge base is closed")
        try:
            return call()
        except REDIS_FAILURES as exc:
            raise self._error(what, exc) from exc
        except RedisVLError as exc:
            if isinstance(exc.__cause__, REDIS_FAILURES):
                raise self._error(what, exc.__cause__) from exc
            raise

    def _ensure_index(self) -> None:
        if not self._index.exists():
            try:
                self._index.create(overwrite=False)
            except RedisVLError:
                if not self._index.exists():  # not another process creating it at the same moment
                    raise
            return
        existing = SearchIndex.from_existing(self.schema.index.name, redis_client=self._client)
        dims = getattr(existing.schema.fields[VECTOR_FIELD].attrs, "dims", None)
        if dims != self.embedder.dim:
            raise self._error("open", f"stored vectors have size {dims}, the embedder gives {self.embedder.dim}")

    def _key(self, point: str) -> str:
        return f"{self.prefix}{point}"

    def _stored_payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        def read() -> list[list[bytes | None]]:
            pipe = self._client.pipeline(transaction=False)
            for point in ids:
                pipe.hmget(self._key(point), PAYLOAD_KEYS)
            return pipe.execute()

        rows = self._guard("read", read)
        return {point: _payload(row) for point, row in zip(ids, rows, strict=True) if row[0] is not None}

    def _write(self, points: Sequence[StoredPoint]) -> None:
        """Each chunk replaced whole (DEL, then HSET) in one transaction: HSET alone would keep fields the new
        version no longer has (a publication date), and readers never see a batch half written."""

        def write() -> None:
            pipe = self._client.pipeline(transaction=True)
            for point in points:
                key = self._key(point.id)
                pipe.delete(key)
                fields: Mapping[Any, Any] = _hash_fields(point)
                pipe.hset(key, mapping=fields)
            pipe.execute()

        self._guard("write", write)

    def _delete(self, ids: Sequence[str]) -> None:
        self._guard("prune", lambda: self._client.delete(*(self._key(p) for p in ids)))

    def export(self, batch_size: int = 1024) -> Iterator[list[StoredPoint]]:
        keys = self._guard("export", lambda: list(self._client.scan_iter(match=f"{self.prefix}*", count=batch_size)))
        for batch in batches(keys, batch_size):
            rows = self._read_fields(batch, [*PAYLOAD_KEYS, VECTOR_FIELD])
            yield [
                StoredPoint(key.decode()[len(self.prefix):], _payload(row[:-1]), _vector(row[-1]))
                for key, row in zip(batch, rows, strict=True) if row[0] is not None
            ]

    def payloads(self, batch_size: int = 2048) -> Iterator[list[dict[str, Any]]]:
        keys = self._guard("read", lambda: list(self._client.scan_iter(match=f"{self.prefix}*", count=batch_size)))
        for batch in batches(keys, batch_size):
            yield [_payload(row) for row in self._read_fields(batch, PAYLOAD_KEYS) if row[0] is not None]

    def _read_fields(self, keys: Sequence[bytes | str], fields: Sequence[str]) -> list[list[bytes | None]]:
        def read() -> list[list[bytes | None]]:
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.hmget(key, fields)
            return pipe.execute()

        return self._guard("read", read)

    def drop(self) -> None:
        self._guard("drop", lambda: self._index.delete(drop=True))

    def collections(self) -> dict[str, int]:
        def read() -> dict[str, int]:
            names = sorted(n.decode() if isinstance(n, bytes) else str(n) for n in self._client.execute_command("FT._LIST"))
            out = {}
            for name in names:
                if name.startswith("nexa:kb:"):
                    info = self._client.ft(name).info()
                    out[name.removeprefix("nexa:kb:")] = int(info.get("num_docs", 0))
            return out

        return self._guard("list collections", read)

    def count(self, filters: Mapping[str, Any] | None = None) -> int:
        parsed = SearchFilters.parse(filters)
        query = CountQuery(filter_expression=parsed.to_redis() if parsed else "*").timeout(QUERY_TIMEOUT_MS)
        return int(self._guard("count", lambda: self._index.query(query)))

    def _nearest(
        self, vector: list[float], k: int, filters: SearchFilters | None, threshold: float | None, with_vectors: bool
    ) -> list[Hit]:
        if k <= 0:
            return []
        query = VectorQuery(
            vector=vector, vector_field_name=VECTOR_FIELD, return_fields=list(PAYLOAD_KEYS), num_results=k,
            filter_expression=filters.to_redis() if filters else None, dtype="float32",
        ).timeout(QUERY_TIMEOUT_MS)  # fmt: skip
        rows = self._guard("search", lambda: self._index.query(query))
        found = []
        for row in rows:
            score = 1.0 - float(row["vector_distance"])
            if threshold is not None and score <= threshold:
                break  # ranked by distance: the rest score lower
            found.append((row["id"], row, score))
        # redisvl decodes every returned field that happens to be valid UTF-8, a vector's bytes included, so
        # vectors are read separately, as bytes.
        vectors = self._read_fields([key for key, _, _ in found], [VECTOR_FIELD]) if with_vectors and found else []
        return [
            Hit.from_payload(_typed(row), score, _vector(vectors[i][0]) if vectors else None)
            for i, (_, row, score) in enumerate(found)
        ]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()


def _hash_fields(point: StoredPoint) -> dict[str, Any]:
    payload = point.payload
    fields: dict[str, Any] = {
        "url": payload["url"], "title": payload["title"], "text": payload["text"], "source": payload["source"],
        "chunk": int(payload["chunk"]), "chunks": int(payload["chunks"]),
        VECTOR_FIELD: np.asarray(point.vector, dtype=np.float32).tobytes(),
    }  # fmt: skip
    fields.update({k: payload[k] for k in OPTIONAL_PAYLOAD_KEYS if payload.get(k)})
    if payload.get("published"):
        fields["published"] = payload["published"]
        fields[REDIS_PUBLISHED_FIELD] = parse_iso(payload["published"], "stored published").timestamp()
    return fields


def _payload(row: Sequence[bytes | None]) -> dict[str, Any]:
    """A stored hash (PAYLOAD_KEYS, as HMGET returns them) as the payload `Chunker.records` makes."""
    values = dict(zip(PAYLOAD_KEYS, (v.decode() if v is not None else None for v in row), strict=True))
    return _typed(values)


def _typed(values: Mapping[str, Any]) -> dict[str, Any]:
    payload = stored_payload(values)
    payload["chunk"] = int(payload["chunk"] or 0)
    payload["chunks"] = int(payload["chunks"] or 0)
    payload["published"] = payload["published"] or None
    return payload


def _vector(raw: bytes | None) -> list[float]:
    return np.frombuffer(raw or b"", dtype=np.float32).tolist()
