"""What identifies a run: a cached report is only served to a run that would write the same report, and a
continued thread keeps the knobs it started with unless the caller changes them."""

from __future__ import annotations

import time
import uuid

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from nexa_research import PlanReviewPending, aresearch
from nexa_research.providers import ConfiguredProviders, register_search_backend
from support.scripted_models import named_corpus, providers_for
from support.research_stub import SEARCH_NAME, TITLES, research_answers



@pytest.mark.redis
async def test_switching_the_model_endpoint_is_not_served_the_old_models_report(serve, monkeypatch, redis_stack_url):
    name = f"memory-{uuid.uuid4().hex}"  # search-cache entries of other tests in the shared Redis never match
    register_search_backend(SEARCH_NAME, lambda cfg, settings: named_corpus(TITLES, name))
    monkeypatch.setattr(ConfiguredProviders, "relevance", lambda self: None)
    for name, value in {"REDIS_URL": redis_stack_url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "true",
                        "NEXA_SEARCH_BACKEND": SEARCH_NAME, "NEXA_MAX_ITERATIONS": "1", "NEXA_USE_MEMORY": "false"}.items():
        monkeypatch.setenv(name, value)
    local, hosted = serve(respond=research_answers), serve(respond=research_answers)
    topic = f"The printing press {time.time_ns()}"

    monkeypatch.setenv("NEXA_LLM_BASE_URL", local.base_url)
    await aresearch(topic)
    assert (await aresearch(topic)).metadata.cache.get("report_hits") == 1  # same endpoint: served from the cache

    monkeypatch.setenv("NEXA_LLM_BASE_URL", hosted.base_url)  # the same config, another model behind it
    switched = await aresearch(topic)
    assert not switched.metadata.cache.get("report_hits")
    assert hosted.chat_bodies(), "the new endpoint was never asked"


async def test_overrides_on_an_existing_thread_are_merged_over_its_stored_config():
    providers, saver = providers_for(TITLES), InMemorySaver()
    with pytest.raises(PlanReviewPending) as paused:
        await aresearch("The printing press", providers=providers, checkpointer=saver, review_plan=True,
                        language="French", max_iterations=2)
    report = await aresearch("The printing press", providers=providers, checkpointer=saver,
                             thread_id=paused.value.thread_id, resume="approve", max_iterations=1)
    config = report.metadata.config
    assert config["language"] == "French" and config["review_plan"] is True  # kept from the thread
    assert config["max_iterations"] == 1  # the caller's change


def test_the_embedded_servers_port_is_not_part_of_a_reports_identity(monkeypatch):
    from nexa_research.nodes import report_cache
    from nexa_research.providers.llm import local_server

    monkeypatch.setattr(local_server, "embedded_base_urls", lambda: {"http://127.0.0.1:41234/v1"})
    assert report_cache.stable_label("http://127.0.0.1:41234/v1 qwen2.5-coder-0.5b") == "embedded qwen2.5-coder-0.5b"
    assert report_cache.stable_label("http://127.0.0.1:8080/v1 my-model") == "http://127.0.0.1:8080/v1 my-model"
