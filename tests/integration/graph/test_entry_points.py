"""One run, four doors: `research()`, `nexa research`, LangServe /research/invoke and the Studio graph factory
behave alike (report and search caching, checkpoints), because each enters a `ResearchRuntime`.

Every entry point uses `ConfiguredProviders` from the environment: an OpenAI-protocol stand-in on 127.0.0.1
(tests/openai_stub.py) for every role, an in-memory corpus registered as a search backend, the test's Redis Stack.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from nexa_research import research
from nexa_research.cli import app as cli_app
from nexa_research.providers import ConfiguredProviders, register_search_backend
from nexa_research.providers.checkpointer import open_async_checkpointer
from nexa_research.report import Report
from support.research_stub import SEARCH_NAME, TITLES, research_answers
from support.scripted_models import named_corpus

pytestmark = pytest.mark.redis



@pytest.fixture
def configured_env(serve, monkeypatch, redis_stack_url):
    name = f"memory-{uuid.uuid4().hex}"  # search-cache entries of other tests in the shared Redis never match
    register_search_backend(SEARCH_NAME, lambda cfg, settings: named_corpus(TITLES, name))
    stub = serve(respond=research_answers)
    monkeypatch.setattr(ConfiguredProviders, "relevance", lambda self: None)
    for name, value in {"NEXA_LLM_BASE_URL": stub.base_url, "REDIS_URL": redis_stack_url, "NEXA_CHECKPOINTER": "redis",
                        "NEXA_CACHE": "true", "NEXA_SEARCH_BACKEND": SEARCH_NAME, "NEXA_MAX_ITERATIONS": "1",
                        "NEXA_USE_MEMORY": "false"}.items():
        monkeypatch.setenv(name, value)
    return stub


def via_library(topic: str, tmp: Path) -> Report:
    return research(topic)


def via_cli(topic: str, tmp: Path) -> Report:
    result = CliRunner().invoke(cli_app, ["research", topic, "--out-dir", str(tmp), "--quiet"])
    assert result.exit_code == 0, result.output
    written = Path(result.stdout.strip().splitlines()[-1])
    return Report.model_validate_json(written.with_suffix(".json").read_text())


def via_langserve(topic: str, tmp: Path) -> Report:
    from nexa_research.server.access.settings import AccessSettings
    from nexa_research.server.app import create_app

    with TestClient(create_app(access=AccessSettings(auth="off"))) as client:
        response = client.post("/research/invoke", json={"input": {"topic": topic}})
    assert response.status_code == 200, response.text
    return Report.model_validate(response.json()["output"]["report"])


def via_studio(topic: str, tmp: Path) -> Report:
    from nexa_research.studio import graph

    async def run() -> Report:
        async with graph({"configurable": {}}) as compiled:
            result = await compiled.ainvoke({"topic": topic})
        return Report.model_validate(result["report"])

    return asyncio.run(run())


@pytest.mark.parametrize("entry", [via_library, via_cli, via_langserve, via_studio], ids=lambda f: f.__name__)
def test_every_entry_point_caches_and_checkpoints_alike(entry, configured_env, redis_stack_url, tmp_path):
    topic = f"The printing press {time.time_ns()}"
    first = entry(topic, tmp_path)
    requests = len(configured_env.chat_bodies())
    assert first.metadata.cache and not first.metadata.cache.get("report_hits"), "the search cache was not used"

    second = entry(topic, tmp_path)
    assert second.metadata.cache.get("report_hits") == 1, "the finished report was not served from the cache"
    assert second.sections == first.sections
    assert len(configured_env.chat_bodies()) == requests, "a cached report called a model"

    if entry is not via_studio:  # under Studio the LangGraph server checkpoints, with its own saver
        async def stored_checkpoint():
            async with open_async_checkpointer(redis_stack_url) as saver:
                return await saver.aget_tuple({"configurable": {"thread_id": first.metadata.thread_id, "checkpoint_ns": ""}})

        stored = asyncio.run(stored_checkpoint())
        assert stored is not None and json.dumps(stored.checkpoint["channel_values"]["report"]["title"])
