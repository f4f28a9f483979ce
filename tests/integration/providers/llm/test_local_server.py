"""The embedded llama.cpp server, used exactly as the graph uses it: ChatOpenAI built by `build_chat_model`.

Real-model tests are few and short (2 CPU cores): small max_tokens, answers a 0.5B model gets right. The server is
the session data folder's shared one on the default spec; how it is shared, replaced and stopped is tested in
test_model_launch.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.config import ResearchConfig, RoleModel
from nexa_research.nodes.planner import PlanOutput, plan_schema
from nexa_research.nodes.reflect import ReflectionOutput
from nexa_research.prompts import load_prompt
from nexa_research.providers.llm.endpoints import Endpoint, build_chat_model
from nexa_research.providers.llm.local_server import LOCAL_HTTP_HEADERS, local_endpoint, local_server
from nexa_research.providers.settings import ProviderSettings
from support.local_llm_fixtures import wiki_sources


class City(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=60, description="The city's name.")
    country: str = Field(max_length=60, description="The country it is in.")


class SearchStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sufficient: bool = Field(description="Whether the notes already answer the question.")
    next_query: str = Field(max_length=120, description="The next web search query.")


@pytest.fixture(scope="module")
def settings(isolated_data_dir: Path) -> ProviderSettings:
    """The session's data folder named outright: a module fixture is made before the per-test environment is."""
    return ProviderSettings(data_dir=isolated_data_dir)


@pytest.fixture(scope="module")
def endpoint(settings: ProviderSettings) -> Endpoint:
    return local_endpoint(settings)


def _chat(role: str, endpoint: Endpoint, max_tokens: int, temperature: float = 0.0):
    return build_chat_model(role, RoleModel(temperature=temperature, max_tokens=max_tokens), endpoint)


@pytest.mark.e2e
def test_endpoint_describes_the_local_server(endpoint: Endpoint) -> None:
    assert endpoint.kind == "local"
    assert endpoint.base_url.startswith("http://127.0.0.1:") and endpoint.base_url.endswith("/v1")
    assert endpoint.default_model == "qwen2.5-coder-0.5b-instruct-q4_k_m"


@pytest.mark.e2e
def test_later_lookups_find_the_same_server(endpoint: Endpoint) -> None:
    first = local_server(ProviderSettings.load())
    again = local_endpoint(ProviderSettings.load())
    assert again.base_url == endpoint.base_url and again.api_key == endpoint.api_key
    assert local_server(ProviderSettings.load()).record == first.record


@pytest.mark.e2e
def test_another_process_uses_the_same_server_and_exits_cleanly(endpoint: Endpoint) -> None:
    """A CLI run is such a process: it finds the running server, and neither hangs nor crashes on exit."""
    code = (
        "from nexa_research.providers.llm.local_server import local_endpoint\n"
        "from nexa_research.providers.settings import ProviderSettings\n"
        "print(local_endpoint(ProviderSettings.load()).base_url)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == endpoint.base_url


@pytest.mark.e2e
def test_server_refuses_requests_without_its_key(endpoint: Endpoint) -> None:
    assert httpx.get(f"{endpoint.base_url}/models").status_code == 401
    ok = httpx.get(f"{endpoint.base_url}/models", headers={"Authorization": f"Bearer {endpoint.api_key}"})
    assert ok.status_code == 200


@pytest.mark.e2e
async def test_plain_chat_answer(endpoint: Endpoint) -> None:
    answer = await _chat("synthesizer", endpoint, 16).ainvoke("What is the capital of France? Answer with one word.")
    assert "paris" in str(answer.content).lower()


@pytest.mark.e2e
async def test_streaming_arrives_in_pieces(endpoint: Endpoint) -> None:
    chunks = [c async for c in _chat("synthesizer", endpoint, 24).astream("Count from one to five in words.")]
    text = "".join(str(c.content) for c in chunks).lower()
    assert len([c for c in chunks if c.content]) > 3
    assert "three" in text


@pytest.mark.e2e
async def test_structured_output_city(endpoint: Endpoint) -> None:
    model = _chat("reflection", endpoint, 60).with_structured_output(City, method="json_schema")
    city = await model.ainvoke("Extract the city: 'The Eiffel Tower stands in Paris, the capital of France.'")
    assert isinstance(city, City)
    assert "paris" in city.name.lower() and "france" in city.country.lower()


@pytest.mark.e2e
async def test_structured_output_search_step(endpoint: Endpoint) -> None:
    model = _chat("reflection", endpoint, 80).with_structured_output(SearchStep, method="json_schema")
    step = await model.ainvoke(
        "Question: who invented the printing press? Notes so far: none. "
        "Decide whether the notes suffice and write the next web search query."
    )
    assert isinstance(step, SearchStep)
    assert step.sufficient is False
    assert "print" in step.next_query.lower()


# Two topics: a grammar-bound plan costs the 0.5B model about a minute of the 2 CPU cores, and the end-to-end test
# (tests/e2e) plans a third topic, the printing press, through the whole graph.
TOPICS = {
    "Photosynthesis in plants": ["Photosynthesis", "Chlorophyll"],
    "The decline of the Roman Empire": ["Roman Empire", "Byzantine Empire"],
}


@pytest.mark.e2e
async def test_planner_schema_on_two_topics(endpoint: Endpoint) -> None:
    """The real planner prompt, schema and role settings: llama.cpp's grammar must yield a plan within bounds."""
    cfg = ResearchConfig(min_sections=3, max_sections=4)
    model = build_chat_model("planner", cfg.models.planner, endpoint)
    structured = model.with_structured_output(plan_schema(3, 4), method="json_schema")
    prompts = [
        load_prompt("planner").messages(
            topic=topic, min_sections=3, max_sections=4, language="English", articles=f"- {topic}: the main article."
        )
        for topic in TOPICS
    ]
    plans = await asyncio.gather(*(structured.ainvoke(p) for p in prompts))
    for plan in plans:
        assert isinstance(plan, PlanOutput)
        assert 3 <= len(plan.paragraphs) <= 4
        assert all(2 <= len(p.questions) <= 4 for p in plan.paragraphs)


@pytest.mark.e2e
async def test_reflection_schema_on_two_topics(endpoint: Endpoint) -> None:
    cfg = ResearchConfig()
    structured = build_chat_model("reflection", cfg.models.reflection, endpoint).with_structured_output(
        ReflectionOutput, method="json_schema"
    )
    prompts = [
        load_prompt("reflection").messages(
            topic=topic,
            title="Overview",
            outline=f"What {topic.lower()} is and why it matters.",
            questions="- What is it?\n- Why does it matter?",
            coverage="- What is it? (answered)\n- Why does it matter? (NOT answered yet)",
            previous_queries=f"- {topic.lower()}",
            sources=wiki_sources(titles),
        )
        for topic, titles in TOPICS.items()
    ]
    answers = await asyncio.gather(*(structured.ainvoke(p) for p in prompts))
    for answer in answers:
        assert isinstance(answer, ReflectionOutput)
        assert len(answer.gaps) <= 3 and len(answer.next_query) <= 200


@pytest.mark.e2e
async def test_back_to_back_streams_need_no_retry(endpoint: Endpoint) -> None:
    """llama.cpp drops the connection after each stream while advertising keep-alive; with LOCAL_HTTP_HEADERS
    a client never reuses it (without them about a third of these requests fail with "Server disconnected")."""
    headers = {"Authorization": f"Bearer {endpoint.api_key}", **LOCAL_HTTP_HEADERS}
    body = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4, "stream": True}
    async with httpx.AsyncClient(base_url=endpoint.base_url, headers=headers, timeout=120) as client:
        for _ in range(20):
            async with client.stream("POST", "/chat/completions", json=body) as resp:
                assert resp.status_code == 200
                assert b"[DONE]" in await resp.aread()
