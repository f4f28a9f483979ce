"""ExaSearch with the real exa-py client against a local Exa stand-in (tests/exa_stub.py): no network.

What a user depends on: results become citable Sources with stable ids and bounded text; the request
asks Exa for what the design says (neural search, page text, excluded domains, date limits, k results);
every service failure is a `SearchBackendError` that says what happened and where, never a hang; and in
a full graph run a section whose searches keep failing is reported missing instead of sinking the report.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from nexa_research import build_graph
from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError, SearchBackendError
from nexa_research.providers.search.exa import ExaSearch, backend_from_settings
from nexa_research.providers.search.protocol import SearchBackend, source_id
from nexa_research.providers.search.registry import build_search_backend
from nexa_research.providers.settings import ProviderSettings
from nexa_research.report import Report
from support.exa_stub import DEFAULT_DOCUMENTS, ExaStub
from support.scripted_models import providers_for

KEY = "test-exa-key"
HANG_GUARD_SECONDS = 30  # a broken timeout fails the test instead of stalling the suite


@pytest.fixture(scope="module")
def stub():
    with ExaStub(api_key=KEY, slow_seconds=20) as server:
        yield server


@pytest.fixture
def exa(stub):
    stub.reset()
    return ExaSearch(KEY, base_url=stub.base_url, timeout_seconds=5)


async def guarded(coro):
    return await asyncio.wait_for(coro, HANG_GUARD_SECONDS)


# --- results -> Sources ---------------------------------------------------------------------------


async def test_results_become_sources_with_stable_ids_and_bounded_text(exa, stub):
    sources = await guarded(exa.search("transformer attention", 3))

    assert isinstance(exa, SearchBackend) and exa.name == "exa"
    assert 1 <= len(sources) <= 3
    by_url = {d["url"]: d for d in DEFAULT_DOCUMENTS}
    for source in sources:
        doc = by_url[source["url"]]
        assert source["title"] == doc["title"]
        assert source["published"] == doc["publishedDate"]
        assert 0.0 < source["score"] <= 1.0
        assert len(source["text"]) <= 2000
        assert doc["text"].startswith(source["text"])
        assert source["id"] == source_id(source["url"], source["text"])
    again = await guarded(exa.search("transformer attention", 3))
    assert [s["id"] for s in again] == [s["id"] for s in sources]


async def test_text_is_clipped_even_if_the_service_ignores_the_limit(exa, stub):
    stub.honour_max_characters = False
    sources = await guarded(exa.search("transformer attention", 5))
    assert sources and all(len(s["text"]) == 2000 for s in sources)


async def test_results_without_text_are_left_out():
    docs = [
        {"url": "https://a.example/one", "title": "One", "publishedDate": None, "text": "Attention text here."},
        {"url": "https://b.example/two", "title": "Two", "publishedDate": None, "text": ""},
    ]
    with ExaStub(api_key=KEY, documents=docs) as server:
        backend = ExaSearch(KEY, base_url=server.base_url, timeout_seconds=5)
        sources = await guarded(backend.search("attention", 5))
        await backend.aclose()
    assert [s["url"] for s in sources] == ["https://a.example/one"]
    assert sources[0]["published"] is None


# --- what is sent --------------------------------------------------------------------------------


async def test_request_asks_for_neural_search_with_text_limits_and_filters(exa, stub):
    dates = {"published_after": "2018-01-01", "published_before": "2024-01-01"}
    await guarded(exa.search("  transformer   attention ", 4, dates))

    (request,) = stub.requests
    assert request.path == "/search"
    assert request.headers["x-api-key"] == KEY
    body = request.body
    assert body["query"] == "transformer attention"
    assert body["type"] == "neural"
    assert body["numResults"] == 4
    assert body["contents"] == {"text": {"maxCharacters": 2000}}
    assert body["excludeDomains"] == ["reddit.com", "twitter.com"]
    assert body["startPublishedDate"] == "2018-01-01"
    assert body["endPublishedDate"] == "2024-01-01"


async def test_excluded_domains_are_configurable(stub):
    stub.reset()
    custom = ExaSearch(KEY, base_url=stub.base_url, exclude_domains=["pinterest.com"], timeout_seconds=5)
    none = ExaSearch(KEY, base_url=stub.base_url, exclude_domains=[], timeout_seconds=5)
    await guarded(custom.search("attention", 2))
    await guarded(none.search("attention", 2))
    first, second = stub.search_bodies()
    assert first["excludeDomains"] == ["pinterest.com"]
    assert "excludeDomains" not in second


async def test_default_exclusions_keep_reddit_out_of_results(exa, stub):
    sources = await guarded(exa.search("transformer attention forum thread", 5))
    assert sources and not any("reddit.com" in s["url"] for s in sources)


@pytest.mark.parametrize(
    ("k", "filters", "needle"),
    [
        (0, None, "k must be at least 1"),
        (3, {"published_after": "last tuesday"}, "published_after"),
        (3, {"published_before": 2024}, "published_before"),
        (3, {"language": "de"}, "unknown filter"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(exa, stub, k, filters, needle):
    with pytest.raises(ResearchInputError, match=needle):
        await exa.search("attention", k, filters)
    assert stub.requests == []


# --- failures -> SearchBackendError ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("401", r"API key was rejected \(HTTP 401\): check EXA_API_KEY"),
        ("402", r"no credits left \(HTTP 402\)"),
        ("429", r"rate limited \(HTTP 429\)"),
        ("500", r"server error \(HTTP 500\)"),
        ("503", r"server error \(HTTP 503\)"),
    ],
)
async def test_error_statuses_name_the_endpoint_and_status(exa, stub, mode, expected):
    stub.script(mode)
    with pytest.raises(SearchBackendError, match=expected) as caught:
        await guarded(exa.search("attention", 2))
    error = caught.value
    assert f"{stub.base_url}/search" in str(error)
    assert error.endpoint == f"{stub.base_url}/search" and error.role == "search"
    assert error.status == int(mode)
    assert error.transient == (mode in ("429", "500", "503")), "only rate limits and outages are worth a retry"
    assert len(stub.requests) == 1, "the backend must not retry on its own; the retry policy does"


async def test_a_wrong_key_is_reported_as_such_and_never_echoed(stub):
    stub.reset()
    backend = ExaSearch("wrong-secret-key", base_url=stub.base_url, timeout_seconds=5)
    with pytest.raises(SearchBackendError, match="EXA_API_KEY") as caught:
        await guarded(backend.search("attention", 2))
    assert "wrong-secret-key" not in str(caught.value)
    assert "wrong-secret-key" not in repr(backend)


async def test_a_slow_service_times_out_instead_of_hanging(stub):
    stub.reset()
    stub.script("slow")
    backend = ExaSearch(KEY, base_url=stub.base_url, timeout_seconds=0.5)
    with pytest.raises(SearchBackendError, match=r"no answer within 0.5s \(timed out\)") as caught:
        await guarded(backend.search("attention", 2))
    assert caught.value.status is None and caught.value.transient


@pytest.mark.parametrize(
    ("mode", "expected", "transient"), [("drop", "could not reach", True), ("not_json", "non-JSON body", False)]
)
async def test_broken_answers_are_backend_errors(exa, stub, mode, expected, transient):
    stub.script(mode)
    with pytest.raises(SearchBackendError, match=expected) as caught:
        await guarded(exa.search("attention", 2))
    assert caught.value.transient is transient


async def test_nothing_listening_is_a_connection_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = ExaSearch(KEY, base_url=f"http://127.0.0.1:{port}", timeout_seconds=2)
    with pytest.raises(SearchBackendError, match=rf"127.0.0.1:{port}/search: could not reach"):
        await guarded(backend.search("attention", 2))


def test_one_backend_serves_runs_on_separate_event_loops(stub):
    """The CLI and `research()` may start a new loop per run while reusing one cached backend."""
    stub.reset()
    backend = ExaSearch(KEY, base_url=stub.base_url, timeout_seconds=5)
    first = asyncio.run(backend.search("attention", 2))
    second = asyncio.run(backend.search("attention", 2))
    assert first and [s["id"] for s in first] == [s["id"] for s in second]


# --- settings and registry ------------------------------------------------------------------------


def test_missing_key_says_exa_api_key_is_not_set():
    with pytest.raises(ResearchInputError, match="EXA_API_KEY is not set"):
        backend_from_settings(ResearchConfig(), ProviderSettings(exa_api_key=None))


def test_registry_builds_exa_from_settings(stub):
    settings = ProviderSettings(exa_api_key=KEY, exa_base_url=stub.base_url + "/")
    for name in ("exa", "auto"):
        backend = build_search_backend(ResearchConfig(search_backend=name), settings)
        assert isinstance(backend, ExaSearch)
        assert backend.endpoint == f"{stub.base_url}/search"


async def test_settings_point_the_real_client_at_the_configured_endpoint(stub):
    stub.reset()
    backend = backend_from_settings(ResearchConfig(), ProviderSettings(exa_api_key=KEY, exa_base_url=stub.base_url))
    assert await guarded(backend.search("attention", 1))
    assert stub.requests[0].headers["x-api-key"] == KEY


# --- a whole run: one section's search keeps failing ----------------------------------------------

SECTIONS = ("Origins of the transformer", "Hardware for transformer inference", "Scaling attention to long inputs")


async def test_graph_reports_a_section_missing_when_exa_keeps_failing(stub):
    """Scripted models for every role (tests/scripted_models.py), the real exa-py client for search."""
    stub.reset()
    stub.fail_queries["hardware"] = "503"
    backend = ExaSearch(KEY, base_url=stub.base_url, timeout_seconds=5)
    graph = build_graph(providers=providers_for(list(SECTIONS), search=backend))
    config = {
        "configurable": {
            "thread_id": "exa-503",
            "provider_retries": 1,
            "retry_wait_seconds": 0,
            "max_iterations": 1,
            "min_sections": 3,
            "max_sections": 3,
            "search_results": 2,
        }
    }

    state = await guarded(graph.ainvoke({"topic": "How transformers are used in practice"}, config))

    report = state["report"] if isinstance(state["report"], Report) else Report.model_validate(state["report"])
    by_title = {s.title: s for s in report.sections}
    hardware = by_title["Hardware for transformer inference"]
    assert hardware.status == "missing"
    assert "HTTP 503" in (hardware.error or "") and f"{stub.base_url}/search" in hardware.error
    assert [s.title for s in report.missing_sections] == ["Hardware for transformer inference"]
    assert all(by_title[t].status == "done" and by_title[t].content for t in SECTIONS if t != hardware.title)
    assert report.bibliography and all("reddit.com" not in e.url for e in report.bibliography)
    failing = [b for b in stub.search_bodies() if "hardware" in b["query"].lower()]
    assert len(failing) == 2, "one try plus provider_retries=1 by the research node, none inside ExaSearch"
