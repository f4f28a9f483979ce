"""Memory across runs: sources one run gathered from a web backend are found by a later run that has no web, in the
knowledge base's store (Redis, or an authenticated Qdrant server) and with its credentials."""

from __future__ import annotations

import uuid

import pytest

from nexa_research import aresearch
from nexa_research.errors import SearchBackendError
from nexa_research.providers import InMemorySearch, ProviderSettings, register_search_backend
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.search.research_memory import open_memory
from support.configured_search import TITLES, ScriptedModelsConfiguredSearch
from support.qdrant_stub import QdrantStub
from support.scripted_models import corpus_for

# The Qdrant stand-in is plain HTTP on 127.0.0.1; qdrant-client warns about a key sent without TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")


class NoResults:
    name = "offline"

    async def search(self, query, k, filters=None):
        return []


QDRANT_KEY = "memory-test-key"


@pytest.fixture
def qdrant_server():
    """A Qdrant server that refuses any request without `api-key: QDRANT_KEY`."""
    with QdrantStub(api_key=QDRANT_KEY) as stub:
        yield stub


@pytest.fixture(params=["redis", "qdrant server"])
def memory_settings(request, tmp_path, redis_stack_url):
    """The default store (Redis, a collection of this test's own), or an authenticated Qdrant server."""
    if request.param == "redis":
        return ProviderSettings(data_dir=tmp_path, redis_url=redis_stack_url, qdrant_collection=f"t{uuid.uuid4().hex[:12]}")
    stub = request.getfixturevalue("qdrant_server")
    return ProviderSettings(data_dir=tmp_path, qdrant_url=stub.base_url, qdrant_api_key=QDRANT_KEY)


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


def test_memory_opens_only_its_collection_with_the_knowledge_base_api_key(qdrant_server, tmp_path):
    settings = ProviderSettings(data_dir=tmp_path, qdrant_url=qdrant_server.base_url, qdrant_api_key=QDRANT_KEY)
    memory = open_memory(settings)
    try:
        assert memory.store == "qdrant" and memory.embedder is default_embedder()
        memory.add_documents(corpus_for(TITLES)[:2], source="research")
        assert memory.count() == 2
        assert memory.search(corpus_for(TITLES)[0]["text"], k=1)[0].url == corpus_for(TITLES)[0]["url"]
    finally:
        memory.close()
    assert qdrant_server.requests and {r.headers.get("api-key") for r in qdrant_server.requests} == {QDRANT_KEY}
    assert qdrant_server.touched_collections() == {"nexa_kb_memory"}, "a knowledge base was opened to borrow its embedder"


def test_a_wrong_api_key_is_refused_by_the_stub(qdrant_server, tmp_path):
    settings = ProviderSettings(data_dir=tmp_path, qdrant_url=qdrant_server.base_url, qdrant_api_key="wrong")
    with pytest.raises(SearchBackendError, match="401"):
        open_memory(settings)
