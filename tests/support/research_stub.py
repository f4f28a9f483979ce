"""A cooperative model for whole runs over the wire: the local OpenAI stand-in answers each role from its prompt.

`research_answers` is what the stand-in (tests/support/openai_stub.py) replies; `research_stub` starts it and points
the environment at it; `no_embedded_llm` and `no_relevance_scoring` keep such a run on the wire under test (use them
with `pytest.mark.usefixtures`). Registered as a pytest plugin in tests/conftest.py.
"""

from __future__ import annotations

import json
import re

import pytest

from nexa_research.prompts import PROMPT_ROLES, load_prompt
from nexa_research.providers import ConfiguredProviders, InMemorySearch, ProviderSettings, register_search_backend
from nexa_research.providers.llm import local_server
from support.openai_stub import message_text
from support.scripted_models import corpus_for, plan_json

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


@pytest.fixture
def no_embedded_llm(monkeypatch):
    def refuse(settings: ProviderSettings):
        raise AssertionError("this test fell through to the embedded llama.cpp server")

    monkeypatch.setattr(local_server, "local_endpoint", refuse)


@pytest.fixture
def research_stub(serve, monkeypatch):
    register_search_backend(SEARCH_NAME, lambda cfg, settings: InMemorySearch(corpus_for(TITLES)))
    stub = serve(respond=research_answers, api_key="run-key", served_model="served-model")
    monkeypatch.setenv("NEXA_LLM_BASE_URL", stub.base_url)
    monkeypatch.setenv("NEXA_LLM_API_KEY", "run-key")
    monkeypatch.setenv("NEXA_LLM_MODEL", "served-model")
    return stub


@pytest.fixture
def no_relevance_scoring(monkeypatch):
    """The stub's made-up sentences look alike to an embedding model; the wire is under test, not de-duplication."""
    monkeypatch.setattr(ConfiguredProviders, "relevance", lambda self: None)
