"""`search_backend="mcp:<server>"`: a real MCP server's search tool (FastMCP on 127.0.0.1) as a research source."""

from __future__ import annotations

import json

import pytest

from nexa_research import aresearch
from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError, SearchBackendError
from nexa_research.providers.search.protocol import source_id
from nexa_research.providers.search.registry import build_search_backend
from nexa_research.providers.settings import ProviderSettings
from support.mcp_search_server import CannedSearchServer, server_entry
from support.scripted_models import corpus_for, providers_for
from support.server_harness import free_port

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]
OFF_TOPIC = {"url": "https://example.org/cooking/0", "title": "Bread baking", "text": "Sourdough needs a starter."}


@pytest.fixture(scope="module")
def canned():
    with CannedSearchServer([*corpus_for(TITLES), OFF_TOPIC]).serving() as server:
        yield server


def backend_for(monkeypatch, servers: dict, name: str):
    monkeypatch.setenv("NEXA_MCP_SERVERS", json.dumps(servers))
    return build_search_backend(ResearchConfig(search_backend=f"mcp:{name}"), ProviderSettings.load())


async def test_structured_results_become_sources_with_the_query_and_count_passed(canned, monkeypatch):
    backend = backend_for(monkeypatch, {"web": server_entry(canned.url)}, "web")
    assert backend.name == "mcp:web"
    sources = await backend.search("Effects on literacy facts", 2)
    assert canned.calls[-1] == ("search", {"query": "Effects on literacy facts", "num_results": 2})
    assert len(sources) == 2
    assert all(s["url"].startswith("https://example.org/effects-on-literacy/") for s in sources)
    first = sources[0]
    assert first["title"].startswith("Effects on literacy source") and "Effects on literacy" in first["text"]
    assert first["id"] == source_id(first["url"], first["text"])  # stable, as every backend's


async def test_json_text_results_and_a_configured_query_argument(canned, monkeypatch):
    entry = server_entry(canned.url, tool="text_search", query_argument="q", arguments={})
    backend = backend_for(monkeypatch, {"texts": entry}, "texts")
    sources = await backend.search("Spread across Europe", 5)
    assert canned.calls[-1] == ("text_search", {"q": "Spread across Europe"})
    assert sources and all("spread-across-europe" in s["url"] for s in sources)


async def test_answers_with_nothing_to_cite_and_tool_errors_are_search_errors(canned, monkeypatch):
    backend = backend_for(monkeypatch, {"prose": server_entry(canned.url, tool="prose_search")}, "prose")
    with pytest.raises(SearchBackendError, match="mcp:prose search: the tool answered in prose") as prose:
        await backend.search("printing press", 3)
    assert prose.value.transient is False
    backend = backend_for(monkeypatch, {"broken": server_entry(canned.url, tool="broken_search")}, "broken")
    with pytest.raises(SearchBackendError, match="index offline") as broken:
        await backend.search("printing press", 3)
    assert broken.value.transient is False
    backend = backend_for(monkeypatch, {"absent": server_entry(canned.url, tool="nope")}, "absent")
    with pytest.raises(SearchBackendError, match=r"no tool 'nope' \(its tools: broken_search, prose_search"):
        await backend.search("printing press", 3)


async def test_an_unreachable_server_is_a_transient_failure(monkeypatch):
    entry = server_entry(f"http://127.0.0.1:{free_port()}/mcp", timeout_seconds=5)
    backend = backend_for(monkeypatch, {"down": entry}, "down")
    with pytest.raises(SearchBackendError, match="mcp:down search: the server did not answer") as down:
        await backend.search("printing press", 3)
    assert down.value.transient is True


def test_only_servers_the_deployment_lists_can_be_named(monkeypatch):
    with pytest.raises(ResearchInputError, match=r"search_backend: 'mcp:other' is not a configured MCP server; "
                                                 r"configured: mcp:web"):
        backend_for(monkeypatch, {"web": server_entry("http://127.0.0.1:1/mcp")}, "other")
    with pytest.raises(ResearchInputError, match=r"NEXA_MCP_SERVERS.web: .*either url .* or command"):
        backend_for(monkeypatch, {"web": {"tool": "search"}}, "web")


async def test_a_research_run_cites_the_mcp_servers_results(canned, monkeypatch):
    backend = backend_for(monkeypatch, {"web": server_entry(canned.url)}, "web")
    report = await aresearch("The printing press", providers=providers_for(TITLES, search=backend),
                             max_iterations=1, max_sections=3)
    assert [s.title for s in report.sections] == TITLES and all(s.status == "done" for s in report.sections)
    served = {d["url"] for d in corpus_for(TITLES)}
    cited = {e.url for e in report.bibliography}
    assert cited and cited <= served
    for section in report.sections:  # each section cites the results served for it
        slug = section.title.lower().replace(" ", "-")
        own = [e.number for e in report.bibliography if e.url.split("/")[3] == slug]
        assert any(f"[{n}]" in section.content for n in own), section.title
