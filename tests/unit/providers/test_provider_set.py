"""Lifecycle of what a run uses: chat models built once per event loop, released by `aclose`, and config and
environment resolved once, with the knobs reaching nodes through both LangGraph's run context and `configurable`.

A whole graph run against the local OpenAI stand-in (tests/support/research_stub.py) counts how many
ChatOpenAI objects and HTTP connection pools are built, and how often the config and environment are resolved.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import openai
import pytest
from langchain_core.messages import HumanMessage

from nexa_research import build_graph
from nexa_research import config as config_module
from nexa_research.config import ROLES, ResearchConfig
from nexa_research.providers import ConfiguredProviders, ProviderSettings
from nexa_research.providers.llm import endpoints
from nexa_research.report import Report
from support.research_stub import SEARCH_NAME, TITLES

GUARD_SECONDS = 30
pytestmark = pytest.mark.usefixtures("no_embedded_llm", "no_relevance_scoring")
KNOBS = {"search_backend": SEARCH_NAME, "max_iterations": 2, "provider_retries": 0}


@pytest.fixture
def built(monkeypatch):
    """Counts ChatOpenAI constructions per role's model name and records every HTTP pool made for a model."""
    record: dict = {"models": Counter(), "clients": []}
    original_model, original_client = endpoints.ChatOpenAI, openai.DefaultAsyncHttpxClient

    class CountingModel(original_model):
        def __init__(self, **kwargs):
            record["models"][kwargs["model"]] += 1
            super().__init__(**kwargs)

    def counting_client(*args, **kwargs):
        client = original_client(*args, **kwargs)
        record["clients"].append(client)
        return client

    monkeypatch.setattr(endpoints, "ChatOpenAI", CountingModel)
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


async def test_config_and_environment_are_resolved_once_per_run(research_stub, monkeypatch):
    loads = []
    real_load = ProviderSettings.load
    monkeypatch.setattr(ProviderSettings, "load", classmethod(lambda cls: loads.append(1) or real_load()))
    monkeypatch.setenv("NEXA_RESOLVE_PROBE", "a fresh environment, so no earlier test's entry is reused")
    config_module._resolved.cache_clear()
    providers = ConfiguredProviders()

    await run(providers, configurable=KNOBS)
    info = config_module._resolved.cache_info()
    assert info.misses == 1 and info.hits >= 8  # every node of the run after the first read the same config
    assert len(loads) == 1
    await providers.aclose()


async def test_knobs_reach_the_nodes_as_run_context(research_stub):
    """Studio and the LangGraph SDK pass knobs as context: a dict (validated into ResearchKnobs) or a resolved
    ResearchConfig from the run's owner, which no node resolves again."""
    providers = ConfiguredProviders()
    as_dict = await run(providers, context={**KNOBS, "language": "German"})
    assert as_dict.metadata.config["language"] == "German"
    assert [s.status for s in as_dict.sections] == ["done"] * len(TITLES)  # every node saw the search knob too

    config_module._resolved.cache_clear()
    resolved = ResearchConfig(**KNOBS, language="French")
    as_config = await run(providers, configurable={"language": "Spanish"}, context=resolved)
    assert as_config.metadata.config["language"] == "French"  # context wins over configurable
    assert config_module._resolved.cache_info().misses == 0
    await providers.aclose()
