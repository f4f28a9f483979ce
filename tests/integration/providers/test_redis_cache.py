"""The Redis cache: hits skip the backend, entries expire as configured, and an outage never breaks a search."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from nexa_research.errors import SearchBackendError
from nexa_research.providers.redis_cache import SEARCH_TTL, CachedSearch, RedisCache
from nexa_research.providers.search.protocol import SearchBackend, make_source
from nexa_research.providers.services.redis_server import EmbeddedRedis
from nexa_research.state import Source

pytestmark = pytest.mark.redis


class CountingBackend:
    """A backend that answers from a fixed list and counts how often it was really asked."""

    name = "counting"

    def __init__(self, sources: list[Source] | None = None, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, int, dict[str, Any] | None]] = []
        self.sources = sources if sources is not None else [
            make_source(url=f"https://example.org/{i}", title=f"Doc {i}", text=f"passage {i}", score=1 - i / 10)
            for i in range(4)
        ]  # fmt: skip
        self.error = error

    async def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Source]:
        self.calls.append((query, k, filters))
        if self.error is not None:
            raise self.error
        return self.sources[:k]


@pytest.fixture
async def cache(redis_stack_url: str) -> AsyncIterator[RedisCache]:
    made = RedisCache(redis_stack_url, namespace=f"test:{uuid.uuid4().hex}")
    yield made
    await made.aclose()


async def test_a_hit_returns_the_stored_sources_without_calling_the_backend(cache: RedisCache) -> None:
    backend = CountingBackend()
    search = CachedSearch(backend, cache)
    assert isinstance(search, SearchBackend) and search.name == "counting"

    first = await search.search("printing press", 3, {"source": "kb"})
    second = await search.search("printing press", 3, {"source": "kb"})
    assert second == first == backend.sources[:3]
    assert len(backend.calls) == 1
    assert cache.counters["search_hits"] == 1 and cache.counters["search_misses"] == 1

    await search.search("printing press", 2, {"source": "kb"})  # other params: another entry
    await search.search("printing press", 3, None)
    assert len(backend.calls) == 3


async def test_backends_do_not_share_entries(cache: RedisCache) -> None:
    one, other = CountingBackend(), CountingBackend()
    other.name = "other"
    await CachedSearch(one, cache).search("q", 2)
    await CachedSearch(other, cache).search("q", 2)
    assert len(one.calls) == len(other.calls) == 1


async def test_empty_results_and_backend_errors_are_not_cached(cache: RedisCache) -> None:
    empty = CountingBackend(sources=[])
    assert await CachedSearch(empty, cache).search("nothing yet", 3) == []
    assert await CachedSearch(empty, cache).search("nothing yet", 3) == []
    assert len(empty.calls) == 2

    failing = CountingBackend(error=SearchBackendError("backend down", role="search", endpoint="counting"))
    with pytest.raises(SearchBackendError):
        await CachedSearch(failing, cache).search("q", 3)
    assert cache.counters["writes"] == 0


async def test_entries_expire_as_configured(cache: RedisCache, redis_stack_url: str) -> None:
    client = aioredis.Redis.from_url(redis_stack_url)
    params = {"k": 3, "filters": {}}
    await cache.put_search("counting", "q", params, CountingBackend().sources)
    await cache.put_report("A topic", "cfg-1", {"markdown": "# r"})
    await cache.put_report("A topic", "cfg-pro", {"markdown": "# r"}, ttl_seconds=72 * 3600)

    async def ttl(key: str) -> int:
        return int(await client.ttl(key))

    assert SEARCH_TTL - 60 < await ttl(cache.search_key("counting", "q", params)) <= SEARCH_TTL == 7 * 24 * 3600
    assert 24 * 3600 - 60 < await ttl(cache.report_key("A topic", "cfg-1")) <= 24 * 3600
    assert 72 * 3600 - 60 < await ttl(cache.report_key("A topic", "cfg-pro")) <= 72 * 3600
    assert cache.counters["writes"] == 3
    await client.aclose()


async def test_no_entry_outlives_the_retention_time(redis_stack_url: str) -> None:
    """NEXA_RETENTION_DAYS caps every cached kind, whatever TTL its kind or its caller's tier asks for."""
    capped = RedisCache(redis_stack_url, namespace=f"test:{uuid.uuid4().hex}", max_ttl_seconds=90.5)
    client = aioredis.Redis.from_url(redis_stack_url)
    params = {"k": 3, "filters": {}}
    await capped.put_search("counting", "q", params, CountingBackend().sources)
    await capped.put_report("A topic", "cfg-custom", {"markdown": "# r"}, ttl_seconds=7 * 24 * 3600)

    for key in (capped.search_key("counting", "q", params), capped.report_key("A topic", "cfg-custom")):
        assert 85 < int(await client.ttl(key)) <= 91
    await client.aclose()
    await capped.aclose()


async def test_reports_are_keyed_by_normalised_topic_and_config(cache: RedisCache) -> None:
    await cache.put_report("The  Printing Press ", "cfg-1", {"markdown": "# The printing press"})
    assert await cache.get_report("the printing press", "cfg-1") == {"markdown": "# The printing press"}
    assert await cache.get_report("the printing press", "cfg-2") is None
    assert cache.counters["report_hits"] == 1 and cache.counters["report_misses"] == 1


async def test_redis_stopped_mid_run_degrades_to_the_backend_and_recovers(
    redis_stack_factory: Callable[..., EmbeddedRedis], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = redis_stack_factory(tmp_path)
    url = server.start()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    cache = RedisCache(url, retry_after=0.0)
    backend = CountingBackend()
    search = CachedSearch(backend, cache)
    stored = await search.search("before the outage", 2)

    server.stop()
    with caplog.at_level(logging.WARNING, logger="nexa_research.providers.redis_cache"):
        assert await search.search("during the outage", 2) == backend.sources[:2]
        assert await search.search("before the outage", 2) == stored  # served by the backend now
        await cache.put_report("t", "c", {"r": 1})
    assert len(backend.calls) == 3
    assert cache.counters["errors"] >= 2
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1  # one warning per outage

    restarted = redis_stack_factory(tmp_path, port=port)  # same folder and port: the AOF brings the entry back
    restarted.start()
    assert await search.search("before the outage", 2) == stored
    assert len(backend.calls) == 3
    await cache.aclose()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: what a hung Redis looks like."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


async def test_a_hung_redis_times_out_and_is_skipped(silent_port: int) -> None:
    cache = RedisCache(f"redis://127.0.0.1:{silent_port}/0", timeout=0.2, retry_after=60.0)
    backend = CountingBackend()
    search = CachedSearch(backend, cache)
    assert await search.search("q", 2) == backend.sources[:2]
    assert cache.counters["errors"] == 1
    assert not cache.available
    assert await search.search("q", 2) == backend.sources[:2]
    assert cache.counters["errors"] == 1  # while waiting out the outage, Redis is not asked at all
    assert cache.counters["search_misses"] == 2
    await cache.aclose()


async def test_a_refused_command_is_a_cache_miss_not_a_failed_run():
    from redis.exceptions import NoPermissionError

    from nexa_research.providers.redis_cache import RedisCache

    cache = RedisCache("redis://127.0.0.1:1/0")

    async def refuse(*args, **kwargs):
        raise NoPermissionError("NOPERM this user has no permissions to run the 'get' command")

    cache._client.get = refuse
    cache._client.set = refuse
    assert await cache.get_report("topic", "identity") is None
    await cache.put_report("topic", "identity", {"title": "x"})
    assert cache.counters["report_misses"] == 1 and cache.counters["errors"] == 1  # the second call waits the outage out
    await cache.aclose()
