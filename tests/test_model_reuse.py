"""Lifecycle of what a run uses: chat models built once per event loop and released by `aclose`.

A whole graph run against the local OpenAI stand-in (the harness of test_provider_graph_run.py) counts how many
ChatOpenAI objects and HTTP connection pools are built.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import openai
import pytest
from langchain_core.messages import HumanMessage
from test_provider_graph_run import SEARCH_NAME, TITLES, _no_embedded_llm, no_relevance_scoring, research_stub  # noqa: F401

from nexa_research import build_graph
from nexa_research.config import ROLES, ResearchConfig
from nexa_research.providers import ConfiguredProviders, ProviderSettings
from nexa_research.providers import llm_endpoints
from nexa_research.report import Report

GUARD_SECONDS = 30
KNOBS = {"search_backend": SEARCH_NAME, "max_iterations": 2, "provider_retries": 0}


@pytest.fixture
def built(monkeypatch):
    """Counts ChatOpenAI constructions per role's model name and records every HTTP pool made for a model."""
    record: dict = {"models": Counter(), "clients": []}
    original_model, original_client = llm_endpoints.ChatOpenAI, openai.DefaultAsyncHttpxClient

    class CountingModel(original_model):
        def __init__(self, **kwargs):
            record["models"][kwargs["model"]] += 1
            super().__init__(**kwargs)

    def counting_client(*args, **kwargs):
        client = original_client(*args, **kwargs)
        record["clients"].append(client)
        return client

    monkeypatch.setattr(llm_endpoints, "ChatOpenAI", CountingModel)
    monkeypatch.setattr(openai, "DefaultAsyncHttpxClient", counting_client)
    return record


async def run(providers: ConfiguredProviders, *, configurable: dict | None = None, context=None) -> Report:
    graph = build_graph(providers)
    config = {"configurable": {**(configurable or {}), "thread_id": "t"}}
    result = await asyncio.wait_for(graph.ainvoke({"topic": "The printing press"}, config, context=context), GUARD_SECONDS)
    return Report.model_validate(result["report"])


async def test_a_run_builds_each_role_model_once_and_aclose_releases_them(research_stub, built):
    providers = ConfiguredProviders()
    report = await run(providers, configurable=KNOBS)
    assert [s.status for s in report.sections] == ["done"] * len(TITLES)

    # query writer, reflection and synthesizer were each called once per section, yet built once
    assert len([b for b in research_stub.chat_bodies()]) > len(ROLES)
    assert sum(built["models"].values()) == len(ROLES)
    assert len(built["clients"]) == 1  # one pool for the one endpoint, shared by the roles

    again = await providers.arole_models("synthesizer", ResearchConfig(**KNOBS))
    assert sum(built["models"].values()) == len(ROLES), "a later call on the same loop reuses the model"

    await providers.aclose()
    assert all(client.is_closed for client in built["clients"])
    fresh = await providers.arole_models("synthesizer", ResearchConfig(**KNOBS))
    assert fresh.models[0] is not again.models[0], "after aclose the providers build afresh"
    await providers.aclose()


async def test_another_event_loop_gets_its_own_models(serve, built):
    stub = serve(respond=lambda body: "an answer")
    providers = ConfiguredProviders(ProviderSettings(llm_base_url=stub.base_url))
    cfg = ResearchConfig(**KNOBS)
    here = await providers.arole_models("planner", cfg)
    assert (await providers.arole_models("planner", cfg)).models[0] is here.models[0]

    async def on_another_loop():
        elsewhere = await providers.arole_models("planner", cfg)
        answer = await elsewhere.text([HumanMessage("Say something.")])
        await providers.aclose()
        return elsewhere, answer

    elsewhere, answer = await asyncio.to_thread(asyncio.run, on_another_loop())
    assert elsewhere.models[0] is not here.models[0] and answer.content == "an answer"
    assert len(built["clients"]) == 2 and built["clients"][1].is_closed and not built["clients"][0].is_closed
    await providers.aclose()
    assert built["clients"][0].is_closed
