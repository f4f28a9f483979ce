"""Memory across runs: sources one run gathered from a web backend are found by a later run that has no web."""

from __future__ import annotations

import uuid

import pytest

from nexa_research import aresearch
from nexa_research.providers import ConfiguredProviders, InMemorySearch, ProviderSettings, register_search_backend
from scripted_models import corpus_for, providers_for

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


class ScriptedModelsConfiguredSearch(ConfiguredProviders):
    """Search (and memory) exactly as deployed; scripted chat models so the test needs no LLM."""

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.scripted = providers_for(TITLES)

    def role_models(self, role, cfg):
        return self.scripted.role_models(role, cfg)

    def relevance(self):
        return None  # a made-up corpus: memory is under test, not relevance


class NoResults:
    name = "offline"

    async def search(self, query, k, filters=None):
        return []


@pytest.fixture
def memory_settings(tmp_path, redis_stack_url):
    """The default store (Redis), a collection of this test's own."""
    return ProviderSettings(data_dir=tmp_path, redis_url=redis_stack_url, qdrant_collection=f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture
def memory_providers(memory_settings):
    register_search_backend("web-stub", lambda cfg, settings: InMemorySearch(corpus_for(TITLES)))
    register_search_backend("offline", lambda cfg, settings: NoResults())
    return lambda: ScriptedModelsConfiguredSearch(memory_settings)


async def test_a_later_run_finds_what_an_earlier_run_gathered(memory_providers):
    first = await aresearch("The printing press", providers=memory_providers(), search_backend="web-stub", max_iterations=1, min_relevance=-1.0)
    web_urls = {e.url for e in first.bibliography}
    assert web_urls and all(u.startswith("https://example.org/") for u in web_urls)

    offline = await aresearch("The printing press", providers=memory_providers(), search_backend="offline", max_iterations=1, min_relevance=-1.0)
    assert [s.status for s in offline.sections] == ["done"] * 3
    assert {e.url for e in offline.bibliography} <= web_urls

    forgetful = await aresearch(
        "The printing press", providers=memory_providers(), search_backend="offline", max_iterations=1, use_memory=False
    )
    assert [s.status for s in forgetful.sections] == ["missing"] * 3
