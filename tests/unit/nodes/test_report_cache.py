"""What identifies a run: a cached report is only served to a run that would write the same report, and a
continued thread keeps the knobs it started with unless the caller changes them."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from nexa_research import PlanReviewPending, aresearch
from support.research_stub import TITLES
from support.scripted_models import providers_for


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
