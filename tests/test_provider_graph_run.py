"""Whole research runs with every role on an OpenAI-compatible endpoint chosen by the environment alone.

The graph is built with `ConfiguredProviders` (what a deployment uses), the endpoint is a local OpenAI stand-in
(tests/openai_stub.py) picked through NEXA_LLM_BASE_URL, and the search backend is an in-memory corpus
registered by name and chosen with `search_backend=<name>`. The stand-in answers each role from its prompt, so
the real client, the real wire format and the real graph are all exercised. A dead synthesizer endpoint must
cost only its sections: the run still ends with a report that says which role and endpoint failed.
"""

from __future__ import annotations

import asyncio
import json
import re
import warnings

import pytest
from openai_stub import closed_port_url, message_text
from scripted_models import corpus_for, plan_json

from nexa_research import build_graph
from nexa_research.config import ROLE_DEFAULTS, ROLES
from nexa_research.prompts import PROMPT_ROLES, load_prompt
from nexa_research.providers import ConfiguredProviders, InMemorySearch, ProviderSettings, register_search_backend
from nexa_research.providers.llm import local_server
from nexa_research.report import Report

GUARD_SECONDS = 30  # a broken timeout fails the test instead of stalling the suite
TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]
SEARCH_NAME = "provider-graph-run-memory"
SYSTEM_OPENINGS = {role: load_prompt(role).system.split("$", 1)[0][:80] for role in PROMPT_ROLES}


def role_of(body: dict) -> str:
    """Which graph role sent a request, told by the system prompt text of prompts/<role>.md."""
    system = message_text(body, "system")
    matches = [role for role, opening in SYSTEM_OPENINGS.items() if system.startswith(opening)]
    if len(matches) != 1:
        raise ValueError(f"no single prompt matches system text {system[:80]!r}")
    return matches[0]


def _field(text: str, name: str) -> str:
    match = re.search(rf"^{name}: (.*)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def research_answers(body: dict) -> str:
    """What a cooperative model would answer each role: JSON where a schema is asked for, cited prose otherwise."""
    role, user = role_of(body), message_text(body, "user")
    if role == "planner":
        return plan_json(TITLES)
    if role == "query_writer":
        return json.dumps({"query": f"{_field(user, 'Section')} facts"})
    if role == "reflection":
        return json.dumps({"sufficient": True, "gaps": [], "next_query": ""})
    if role == "synthesizer":
        numbered = re.findall(r"^\[(\d+)\] (.+?) \(", user, re.MULTILINE)
        return " ".join(f"Passage {title} documents the section {_field(user, 'Section')} [{n}]." for n, title in numbered)
    count = int(re.search(r"(\d+) transitions", user).group(1))
    return json.dumps(
        {
            "executive_summary": "The sections summarise the printing press and its effects [1].",
            "introduction": "This report introduces the printing press and why it matters.",
            "transitions": [f"Part {i + 1} follows." for i in range(count)],
            "conclusion": "In conclusion, the press changed how knowledge spread.",
        }
    )


@pytest.fixture(autouse=True)
def _no_embedded_llm(monkeypatch):
    def refuse(settings: ProviderSettings):
        raise AssertionError("this test fell through to the embedded llama.cpp server")

    monkeypatch.setattr(local_server, "local_endpoint", refuse)


@pytest.fixture
def research_stub(serve, monkeypatch):  # noqa: F811 - the imported fixture
    register_search_backend(SEARCH_NAME, lambda cfg, settings: InMemorySearch(corpus_for(TITLES)))
    stub = serve(respond=research_answers, api_key="run-key", served_model="served-model")
    monkeypatch.setenv("NEXA_LLM_BASE_URL", stub.base_url)
    monkeypatch.setenv("NEXA_LLM_API_KEY", "run-key")
    monkeypatch.setenv("NEXA_LLM_MODEL", "served-model")
    return stub


@pytest.fixture(autouse=True)
def no_relevance_scoring(monkeypatch):
    """The stub's made-up sentences look alike to an embedding model; the wire is under test, not de-duplication."""
    monkeypatch.setattr(ConfiguredProviders, "relevance", lambda self: None)


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
