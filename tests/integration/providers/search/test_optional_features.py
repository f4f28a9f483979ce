"""Optional features failing during search (research memory, the search cache) cost a section nothing: the run keeps
what its backend found and the report's metadata says what was skipped. Bugs in our own code are not mistaken for
such failures: they fail the run instead of turning into a "missing" section."""

from __future__ import annotations

import socket
import uuid

import pytest
import redis

from nexa_research import ResearchConfig, aresearch
from nexa_research.errors import SearchBackendError
from nexa_research.providers import InMemorySearch, ProviderSettings, register_search_backend
from nexa_research.providers.kb.redis_store import RedisKnowledgeBase
from nexa_research.providers.redis_cache import CachedSearch, RedisCache
from nexa_research.providers.search.knowledge_base import KnowledgeBaseSearch
from nexa_research.providers.search.research_memory import RememberingSearch
from support.configured_search import TITLES, ScriptedModelsConfiguredSearch
from support.scripted_models import corpus_for, providers_for

pytestmark = pytest.mark.redis
TOPIC = "The printing press"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.fixture
def web_stub():
    register_search_backend("web-stub", lambda cfg, settings: InMemorySearch(corpus_for(TITLES)))
    return "web-stub"


async def test_a_memory_whose_redis_went_away_keeps_the_sections_and_warns(web_stub, redis_stack_factory, tmp_path):
    server = redis_stack_factory()
    settings = ProviderSettings(data_dir=tmp_path, redis_url=server.start(), qdrant_collection=f"t{uuid.uuid4().hex[:8]}")
    providers = ScriptedModelsConfiguredSearch(settings)
    knobs = {"search_backend": web_stub, "max_iterations": 1, "min_relevance": -1.0}
    await providers.search_backend(ResearchConfig(**knobs)).memory()  # the memory is open, then its Redis goes away
    server.stop()
    try:
        report = await aresearch(TOPIC, providers=providers, **knobs)
    finally:
        providers.close()
    assert [s.status for s in report.sections] == ["done"] * 3
    assert report.bibliography and all(e.url.startswith("https://example.org/") for e in report.bibliography)
    memory_warnings = [w for w in report.metadata.warnings if "research memory" in w]
    assert {w.split(":")[0] for w in memory_warnings} == {f"section {t!r}" for t in TITLES}
    assert any("did not store" in w for w in memory_warnings) and any("was not searched" in w for w in memory_warnings)


async def test_a_memory_that_cannot_be_opened_costs_each_search_a_warning_not_the_run(web_stub, tmp_path):
    """The memory's store is unreachable from the start: building the backend still works, every search keeps what
    the web backend found and says the memory could not be opened."""
    settings = ProviderSettings(data_dir=tmp_path, redis_url=closed_port_url(), qdrant_collection=f"t{uuid.uuid4().hex[:8]}")
    providers = ScriptedModelsConfiguredSearch(settings)
    knobs = {"search_backend": web_stub, "max_iterations": 1, "min_relevance": -1.0}
    try:
        report = await aresearch(TOPIC, providers=providers, **knobs)
    finally:
        providers.close()
    assert [s.status for s in report.sections] == ["done"] * 3
    memory_warnings = [w for w in report.metadata.warnings if "research memory" in w]
    assert memory_warnings and all("cannot open the research memory" in w for w in memory_warnings)
    assert all("Connection refused" in w for w in memory_warnings)


async def test_a_bug_in_the_memory_fails_the_run(web_stub, redis_stack_url, tmp_path, monkeypatch):
    settings = ProviderSettings(data_dir=tmp_path, redis_url=redis_stack_url, qdrant_collection=f"t{uuid.uuid4().hex[:8]}")
    providers = ScriptedModelsConfiguredSearch(settings)
    knobs = {"search_backend": web_stub, "max_iterations": 1, "min_relevance": -1.0}
    remembering = providers.search_backend(ResearchConfig(**knobs))
    assert isinstance(remembering, RememberingSearch)

    def buggy(*args, **kwargs):
        raise TypeError("add_documents() got an unexpected keyword argument 'sorce'")

    monkeypatch.setattr(await remembering.memory(), "add_documents", buggy)
    try:
        with pytest.raises(TypeError, match="sorce"):
            await aresearch(TOPIC, providers=providers, **knobs)
    finally:
        providers.close()


@pytest.fixture
def refusing_cache_url(redis_stack_url):
    """A Redis user the server refuses GET and SET: a cache whose every read and write fails with NOPERM."""
    name = f"nocache-{uuid.uuid4().hex[:8]}"
    admin = redis.Redis.from_url(redis_stack_url)
    admin.acl_setuser(name, enabled=True, passwords=["+secret"], keys=["*"], commands=["+@all", "-get", "-set"])
    yield redis_stack_url.replace("redis://", f"redis://{name}:secret@")
    admin.acl_deluser(name)
    admin.close()


@pytest.mark.parametrize("failure", ["refused", "unreachable"])
async def test_a_failing_search_cache_keeps_the_sections_and_warns(failure, refusing_cache_url):
    cache = RedisCache(refusing_cache_url if failure == "refused" else closed_port_url(), timeout=0.2)
    search = CachedSearch(InMemorySearch(corpus_for(TITLES)), cache)
    try:
        report = await aresearch(TOPIC, providers=providers_for(TITLES, search=search), max_iterations=1, use_cache=False)
    finally:
        await cache.aclose()
    assert [s.status for s in report.sections] == ["done"] * 3 and report.bibliography
    cache_warnings = [w for w in report.metadata.warnings if "search cache" in w and "searched without it" in w]
    assert len(cache_warnings) == 3, report.metadata.warnings
    assert ("NoPermissionError" if failure == "refused" else "ConnectionError") in cache_warnings[0]


class WrongSizeEmbedder:
    """A bug: it says 384 dims and gives 3 for queries."""

    dim = 384

    def __init__(self, real) -> None:
        self.real = real

    def embed(self, texts):
        return self.real.embed(texts) if len(texts) > 1 else [[1.0, 0.0, 0.0] for _ in texts]


async def test_a_bug_under_the_knowledge_base_fails_the_run_instead_of_a_missing_section(make_kb):
    kb = make_kb()
    kb.add_documents(corpus_for(TITLES), source="notes")
    kb.embedder = WrongSizeEmbedder(kb.embedder)
    with pytest.raises(ValueError, match="shape"):
        await aresearch(TOPIC, providers=providers_for(TITLES, search=KnowledgeBaseSearch(kb)), max_iterations=1)


async def test_a_store_that_is_down_is_still_a_missing_section(redis_stack_factory):
    """The converse: the main backend's own outage is a provider failure, reported per section as before."""
    server = redis_stack_factory()
    kb = RedisKnowledgeBase(server.start(), collection=f"t{uuid.uuid4().hex[:8]}")
    kb.add_documents(corpus_for(TITLES), source="notes")
    server.stop()
    try:
        report = await aresearch(TOPIC, providers=providers_for(TITLES, search=KnowledgeBaseSearch(kb)), max_iterations=1)
    finally:
        kb.close()
    assert [s.status for s in report.sections] == ["missing"] * 3
    assert all(SearchBackendError.__name__ in (s.error or "") for s in report.sections)
