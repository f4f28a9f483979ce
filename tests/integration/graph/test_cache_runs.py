"""Redis caches seen from a run: repeated searches skip the backend, finished reports come back whole, TTLs hold,
and a Redis that dies mid-run costs the cache, never the run."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import redis

from nexa_research import ResearchConfig, aresearch
from nexa_research.nodes.report_cache import report_identity
from nexa_research.providers import ConfiguredProviders, InMemorySearch, register_search_backend
from nexa_research.providers.redis_cache import RedisCache
from support.research_stub import SEARCH_NAME, research_answers
from support.research_stub import TITLES as STUB_TITLES
from support.scripted_models import corpus_for, named_corpus, providers_for

pytestmark = pytest.mark.redis
TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


class CountingSearch(InMemorySearch):
    def __init__(self, docs, on_call=None) -> None:
        super().__init__(docs)
        self.calls = 0
        self.on_call = on_call

    async def search(self, query, k, filters=None):
        self.calls += 1
        if self.on_call:
            self.on_call()
        return await super().search(query, k, filters)


@pytest.fixture
def cached_env(monkeypatch, redis_stack_url):
    monkeypatch.setenv("REDIS_URL", redis_stack_url)
    monkeypatch.setenv("NEXA_CHECKPOINTER", "redis")
    monkeypatch.setenv("NEXA_CACHE", "true")
    return redis_stack_url


async def test_repeated_searches_come_from_redis_and_reports_are_cached(cached_env):
    topic = f"The printing press {time.time_ns()}"  # fresh keys for this test
    search = CountingSearch(corpus_for(TITLES))
    first = await aresearch(topic, providers=providers_for(TITLES, search=search), max_iterations=1, report_cache_ttl_seconds=120)
    assert search.calls == 3 and first.metadata.cache == {"search_misses": 3}

    providers = providers_for(TITLES, search=search)
    second = await aresearch(topic, providers=providers, max_iterations=1, language="French")
    assert search.calls == 3, "a repeated search reached the backend"
    assert second.metadata.cache == {"search_hits": 3}

    third = await aresearch(topic, providers=providers, max_iterations=1, report_cache_ttl_seconds=120)
    assert third.metadata.cache.get("report_hits") == 1
    assert third.sections == first.sections
    assert len(providers._chat["planner"].calls) == 1  # only the French run planned

    client = redis.Redis.from_url(cached_env)
    cache = RedisCache(cached_env)
    cfg = ResearchConfig.from_values({"max_iterations": 1, "report_cache_ttl_seconds": 120})
    assert 100 < client.ttl(cache.report_key(topic, await report_identity(providers, cfg))) <= 120
    search_ttls = [client.ttl(k) for k in client.scan_iter(match=f"{cache.namespace}:search:*")]
    assert search_ttls and max(search_ttls) <= 7 * 24 * 3600 and min(search_ttls) > 7 * 24 * 3600 - 600
    await cache.aclose()


async def test_cache_can_be_turned_off_per_run(cached_env):
    topic = f"The printing press {time.time_ns()}"
    search = CountingSearch(corpus_for(TITLES))
    await aresearch(topic, providers=providers_for(TITLES, search=search), max_iterations=1, use_cache=False)
    report = await aresearch(topic, providers=providers_for(TITLES, search=search), max_iterations=1, use_cache=False)
    assert search.calls == 6 and report.metadata.cache == {}


async def test_redis_stopped_mid_run_the_run_still_finishes(monkeypatch, redis_stack_factory, caplog):
    server = redis_stack_factory()
    url = server.start()
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("NEXA_CHECKPOINTER", "in_memory")
    monkeypatch.setenv("NEXA_CACHE", "true")
    search = CountingSearch(corpus_for(TITLES), on_call=lambda: server.stop() if server.url else None)
    with caplog.at_level(logging.WARNING):
        report = await aresearch("The printing press", providers=providers_for(TITLES, search=search), max_iterations=1)
    assert [s.status for s in report.sections] == ["done"] * 3
    assert search.calls == 3
    assert any("running without cache" in r.getMessage() for r in caplog.records)


async def test_switching_the_model_endpoint_is_not_served_the_old_models_report(serve, monkeypatch, redis_stack_url):
    name = f"memory-{uuid.uuid4().hex}"  # search-cache entries of other tests in the shared Redis never match
    register_search_backend(SEARCH_NAME, lambda cfg, settings: named_corpus(STUB_TITLES, name))
    monkeypatch.setattr(ConfiguredProviders, "relevance", lambda self: None)
    for name, value in {"REDIS_URL": redis_stack_url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "true",
                        "NEXA_SEARCH_BACKEND": SEARCH_NAME, "NEXA_MAX_ITERATIONS": "1", "NEXA_USE_MEMORY": "false"}.items():
        monkeypatch.setenv(name, value)
    local, hosted = serve(respond=research_answers), serve(respond=research_answers)
    topic = f"The printing press {time.time_ns()}"

    monkeypatch.setenv("NEXA_LLM_BASE_URL", local.base_url)
    await aresearch(topic)
    assert (await aresearch(topic)).metadata.cache.get("report_hits") == 1  # same endpoint: served from the cache

    monkeypatch.setenv("NEXA_LLM_BASE_URL", hosted.base_url)  # the same config, another model behind it
    switched = await aresearch(topic)
    assert not switched.metadata.cache.get("report_hits")
    assert hosted.chat_bodies(), "the new endpoint was never asked"
