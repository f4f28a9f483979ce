"""A Redis cache for search results and finished reports; optional by design.

The cache only saves time and money, so it must never cost a run: on a Redis outage it logs one warning, answers
"miss" and skips writes, and tries Redis again after `retry_after` seconds. Short socket timeouts and no
client-side retries keep a dead Redis from stalling a run. Keys are namespaced and hashed, so a query of any
length makes a short key and two backends never share entries. Values are JSON. No entry outlives
`max_ttl_seconds` (the retention time, NEXA_RETENTION_DAYS), whatever TTL its kind or its caller's tier asks for.

A `RedisCache` holds an asyncio client, which belongs to the event loop that first uses it: make one per loop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from nexa_research.providers.search.outcome import SearchOutcome, search_outcome
from nexa_research.providers.search.protocol import SearchBackend
from nexa_research.providers.services.redis_server import redact_url
from nexa_research.state import Source

logger = logging.getLogger(__name__)

SEARCH_TTL = 7 * 24 * 3600
REPORT_TTL = 24 * 3600
# A refused command (ACL NOPERM, OOM under maxmemory) costs the cache as much as an outage, never the run.
_OUTAGE = (RedisConnectionError, RedisTimeoutError, ResponseError, OSError)


def digest(*parts: str) -> str:
    """sha256 over the parts, separated so that ("ab", "c") and ("a", "bc") never collide."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def normalize_topic(topic: str) -> str:
    """Same report for "The  Printing press" and "the printing press"."""
    return " ".join(topic.split()).casefold()


class RedisCache:
    """Namespaced get/put for the two cached kinds, with hit/miss counters per instance (`counters`)."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "nexa:cache",
        search_ttl: int = SEARCH_TTL,
        report_ttl: int = REPORT_TTL,
        timeout: float = 0.5,
        retry_after: float = 30.0,
        max_ttl_seconds: float | None = None,
    ) -> None:
        self.url = url
        self.namespace = namespace
        self.search_ttl, self.report_ttl = search_ttl, report_ttl
        self.max_ttl_seconds = max_ttl_seconds
        self.retry_after = retry_after
        self._client = aioredis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=None, decode_responses=True
        )
        self._down_until: float | None = None
        self.last_error = "Redis unreachable"  # the latest failure, for warnings
        self.counters: dict[str, int] = {
            f"{kind}_{event}": 0 for kind in ("search", "report") for event in ("hits", "misses")
        }
        self.counters.update(writes=0, errors=0)

    # keys: one place, so tests and tools can find an entry
    def search_key(self, backend: str, query: str, params: dict[str, Any]) -> str:
        return f"{self.namespace}:search:{digest(backend, query, json.dumps(params, sort_keys=True, default=str))}"

    def report_key(self, topic: str, config_hash: str) -> str:
        return f"{self.namespace}:report:{digest(normalize_topic(topic), config_hash)}"

    # search results
    async def get_search(self, backend: str, query: str, params: dict[str, Any]) -> list[Source] | None:
        return await self._get("search", self.search_key(backend, query, params))

    async def put_search(self, backend: str, query: str, params: dict[str, Any], sources: list[Source]) -> None:
        await self._put(self.search_key(backend, query, params), sources, self.search_ttl)

    # finished reports; the TTL depends on the caller's tier
    async def get_report(self, topic: str, config_hash: str) -> dict[str, Any] | None:
        return await self._get("report", self.report_key(topic, config_hash))

    async def put_report(
        self, topic: str, config_hash: str, report: dict[str, Any], *, ttl_seconds: int | None = None
    ) -> None:
        await self._put(self.report_key(topic, config_hash), report, ttl_seconds or self.report_ttl)

    @property
    def available(self) -> bool:
        """False while an outage is being waited out (reads miss, writes are skipped)."""
        return self._down_until is None or time.monotonic() >= self._down_until

    async def _get(self, kind: str, key: str) -> Any:
        raw = None
        if self.available:
            try:
                raw = await self._client.get(key)
                self._recovered()
            except _OUTAGE as exc:
                self._outage(exc)
        value = None
        if raw is not None:
            try:
                value = json.loads(raw)
            except ValueError as exc:  # written by something else: treat as absent, say so
                logger.warning("cache entry %s is not JSON (%s); ignoring it", key, exc)
        self.counters[f"{kind}_{'hits' if value is not None else 'misses'}"] += 1
        return value

    async def _put(self, key: str, value: Any, ttl: int) -> None:
        if not self.available:
            return
        if self.max_ttl_seconds is not None:
            ttl = min(ttl, max(1, math.ceil(self.max_ttl_seconds)))
        try:
            await self._client.set(key, json.dumps(value), ex=int(ttl))
            self.counters["writes"] += 1
            self._recovered()
        except _OUTAGE as exc:
            self._outage(exc)

    def _outage(self, exc: BaseException) -> None:
        self.counters["errors"] += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        if self._down_until is None:
            logger.warning(
                "Redis cache at %s unavailable (%s: %s); running without cache, retrying in %.0fs",
                redact_url(self.url), type(exc).__name__, exc, self.retry_after,
            )  # fmt: skip
        self._down_until = time.monotonic() + self.retry_after

    def _recovered(self) -> None:
        if self._down_until is not None:
            logger.info("Redis cache at %s is back", redact_url(self.url))
            self._down_until = None

    async def aclose(self) -> None:
        await self._client.aclose()


class CachedSearch:
    """Any `SearchBackend` behind the cache: a hit returns the stored sources without calling the backend.

    Empty results are not stored, so a knowledge base seeded after a miss is seen on the next run. Backend
    errors propagate untouched (and are never cached). The cache is optional: when Redis fails (unreachable,
    or refusing a command: out of memory, a key of the wrong type) the search goes on without it and the
    outcome carries a warning for the report; errors that are not Redis's are bugs and propagate.
    """

    def __init__(self, backend: SearchBackend, cache: RedisCache) -> None:
        self.backend = backend
        self.cache = cache
        self.name = backend.name

    async def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Source]:
        return (await self.search_outcome(query, k, filters)).sources

    async def search_outcome(self, query: str, k: int, filters: dict[str, Any] | None = None) -> SearchOutcome:
        """The sources, whether they came from the cache (so a run can count its own hits), and warnings."""
        params = {"k": k, "filters": filters or {}}
        warnings: list[str] = []
        cached = await self._optional(warnings, "read", self.cache.get_search(self.name, query, params))
        if cached is not None:
            return SearchOutcome(cached[:k], cache_hit=True)
        found = await search_outcome(self.backend, query, k, filters)
        if found.sources:
            await self._optional(warnings, "write", self._store(query, params, found.sources))
        return SearchOutcome(found.sources, cache_hit=False, warnings=[*warnings, *found.warnings])

    async def _store(self, query: str, params: dict[str, Any], sources: list[Source]) -> None:
        await self.cache.put_search(self.name, query, params, sources)

    async def _optional(self, warnings: list[str], what: str, call: Awaitable[Any]) -> Any:
        """Await a cache call; on a Redis failure (raised, or absorbed by `RedisCache` as an outage) note it once."""
        reason: str | None
        try:
            result = await call
        except RedisError as exc:
            logger.warning("search cache %s failed (%s: %s); searching without it", what, type(exc).__name__, exc)
            result, reason = None, f"{type(exc).__name__}: {exc}"
        else:
            reason = None if self.cache.available else self.cache.last_error
        if reason is not None and not warnings:
            warnings.append(f"search cache at {redact_url(self.cache.url)} unavailable ({reason}); searched without it")
        return result
