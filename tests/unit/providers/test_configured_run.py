"""Whole research runs with every role on an OpenAI-compatible endpoint chosen by the environment alone.

The graph is built with `ConfiguredProviders` (what a deployment uses), the endpoint is a local OpenAI stand-in
(tests/support/openai_stub.py, answering as tests/support/research_stub.py says) picked through NEXA_LLM_BASE_URL, and the search backend is an in-memory corpus
registered by name and chosen with `search_backend=<name>`. The stand-in answers each role from its prompt, so
the real client, the real wire format and the real graph are all exercised. A dead synthesizer endpoint must
cost only its sections: the run still ends with a report that says which role and endpoint failed.
"""

from __future__ import annotations

import asyncio
import re
import warnings

import pytest

from nexa_research import build_graph
from nexa_research.config import ROLE_DEFAULTS, ROLES
from nexa_research.providers import ConfiguredProviders, ProviderSettings
from nexa_research.report import Report
from support.openai_stub import closed_port_url
from support.research_stub import SEARCH_NAME, TITLES, role_of

GUARD_SECONDS = 30  # a broken timeout fails the test instead of stalling the suite
pytestmark = pytest.mark.usefixtures("no_embedded_llm", "no_relevance_scoring")


async def run_graph(configurable: dict, stream: bool = False) -> Report:
    """One run; `stream` uses LangGraph's message stream (what Studio shows), which makes every model stream."""
    graph = build_graph(ConfiguredProviders(ProviderSettings.load()))
    knobs = {"search_backend": SEARCH_NAME, "max_iterations": 2, "provider_retries": 0, "thread_id": "t",
             **configurable}
    config = {"configurable": knobs}
    if not stream:
        result = await asyncio.wait_for(graph.ainvoke({"topic": "The printing press"}, config), GUARD_SECONDS)
        return Report.model_validate(result["report"])
    final: dict = {}

    async def consume() -> None:
        nonlocal final
        async for mode, chunk in graph.astream({"topic": "The printing press"}, config, stream_mode=["messages", "values"]):
            final = chunk if mode == "values" else final

    with warnings.catch_warnings():  # langchain-openai's streamed `parsed` field trips pydantic's serializer check
        warnings.filterwarnings("ignore", message="Pydantic serializer warnings", category=UserWarning)
        await asyncio.wait_for(consume(), GUARD_SECONDS)
    return Report.model_validate(final["report"])


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "streamed_messages"])
async def test_a_whole_run_goes_over_the_wire_to_the_configured_endpoint(research_stub, stream):
    report = await run_graph({}, stream=stream)

    assert [s.status for s in report.sections] == ["done"] * len(TITLES)
    assert report.bibliography and all(re.search(r"\[\d+\]", s.content) for s in report.sections)
    assert research_stub.errors == []
    bodies = research_stub.chat_bodies()
    assert {role_of(b) for b in bodies} == set(ROLES)
    for body in bodies:
        role = role_of(body)
        assert body["model"] == "served-model" and body["temperature"] == ROLE_DEFAULTS[role]["temperature"]
        assert ("response_format" in body) == (role != "synthesizer")
        assert body["stream"] is stream
    assert {r.headers["authorization"] for r in research_stub.chat_requests()} == {"Bearer run-key"}
    assert report.metadata.models == {role: [f"{research_stub.base_url} served-model"] for role in ROLES}
    assert report.metadata.models_used == {role: ["served-model"] for role in ROLES}
    assert all(report.metadata.token_usage[role]["output_tokens"] > 0 for role in ROLES)


async def test_a_dead_synthesizer_endpoint_costs_its_sections_not_the_report(research_stub):
    dead = closed_port_url()
    report = await run_graph({"models": {"synthesizer": {"base_url": dead, "timeout_seconds": 2}}})

    assert [s.status for s in report.sections] == ["missing"] * len(TITLES)
    for section in report.sections:
        assert "role 'synthesizer'" in section.error and dead in section.error
    assert report.title == "The Printing Press" and "This section is missing" in report.to_markdown()
    assert "synthesizer" not in {role_of(b) for b in research_stub.chat_bodies()}
