"""LangSmith tracing against a local stand-in (tests/support/langsmith_stub.py): one trace per run, carrying what makes
runs comparable (prompt versions, models, config hash, tier, thread and run ids), a run per node tagged with the
node's name; and with no API key, nothing sent, nothing failing, no client even created.
"""

from __future__ import annotations

import time
import uuid

import langsmith
import pytest

from nexa_research.builder import build_graph
from nexa_research.config import ResearchConfig
from nexa_research.prompts import prompt_versions
from nexa_research.tracing import (
    TRACE_NAME,
    configure_tracing,
    flush_traces,
    tag_nodes,
    trace_options,
    tracing_enabled,
    tracing_requested,
    with_trace_options,
)
from support.langsmith_stub import LangSmithStub, reset_langsmith
from support.scripted_models import providers_for

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]
TOP_NODES = {"cached_report", "plan", "review_plan", "research_paragraph", "collate", "store_report"}
BRANCH_NODES = {"generate_query", "search", "reflect", "synthesize"}
METADATA_KEYS = {"prompt_versions", "models", "config_hash", "tier", "thread_id", "run_id"}


async def _run(graph, providers, cfg: ResearchConfig, run_id: str, thread_id: str, tier: str | None = "pro") -> dict:
    config = {"configurable": {**cfg.as_configurable(), "thread_id": thread_id}, "run_id": run_id,
              "metadata": {"tier": "spoofed-by-caller"}}
    options = trace_options(run_id, thread_id, cfg, await providers.adescribe_models(cfg), tier)
    return await graph.ainvoke({"topic": "The printing press"}, with_trace_options(config, options))


async def test_each_run_is_one_trace_with_its_metadata_and_a_tagged_run_per_node(langsmith_stub):
    assert configure_tracing() is True
    providers = providers_for(TITLES)
    graph = tag_nodes(build_graph(providers))
    cfg = ResearchConfig.from_values({"max_sections": 3})
    runs = {str(uuid.uuid4()): f"thread-{i}" for i in range(2)}
    for run_id, thread_id in runs.items():
        out = await _run(graph, providers, cfg, run_id, thread_id)
        assert out["report"]
    flush_traces()

    received = langsmith_stub.wait_until(lambda rs: len([r for r in rs if r["parent_run_id"] is None]) == 2
                                         and all(r.get("end_time") for r in rs))
    roots = {r["id"]: r for r in received if r["parent_run_id"] is None}
    assert set(roots) == set(runs), "one trace per run, its root's id the run id"
    for run_id, thread_id in runs.items():
        root = roots[run_id]
        meta = root["metadata"]
        assert root["name"] == TRACE_NAME and root["session_name"] == "nexa-tests"
        assert METADATA_KEYS <= set(meta)
        assert meta["prompt_versions"] == prompt_versions()
        assert meta["models"] == providers.describe_models(cfg) and meta["models"]["planner"] == ["planner-fake"]
        assert meta["config_hash"] == cfg.fingerprint()
        assert (meta["tier"], meta["thread_id"], meta["run_id"]) == ("pro", thread_id, run_id)
        assert {"nexa-research", "tier:pro"} <= set(root["tags"])

        trace = langsmith_stub.trace(run_id)
        assert all(r["metadata"].get("run_id") == run_id for r in trace), "children inherit the run's metadata"
        node_runs = [r for r in trace if r["metadata"].get("langgraph_node") == r["name"] and r["id"] != run_id]
        names = {r["name"] for r in node_runs}
        assert TOP_NODES | BRANCH_NODES <= names
        assert all(f"node:{r['name']}" in r["tags"] for r in node_runs)
        assert sum(r["name"] == "research_paragraph" and "graph:step:4" in r["tags"] for r in node_runs) == len(TITLES)
        llm_runs = [r for r in trace if r.get("run_type") == "llm"]
        assert llm_runs and all(f"node:{r['metadata']['langgraph_node']}" in r["tags"] for r in llm_runs)

    posts = [r for r in langsmith_stub.requests if r.method == "POST"]
    assert posts and {r.path for r in posts} == {"/runs/multipart"}
    assert all(r.headers.get("x-api-key") == "test-key" for r in posts)


async def test_tracing_asked_for_without_a_key_sends_nothing_and_fails_nothing(monkeypatch):
    created: list[object] = []
    real_init = langsmith.Client.__init__

    def counting_init(self, *args, **kwargs):
        created.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(langsmith.Client, "__init__", counting_init)
    with LangSmithStub() as stub:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("LANGSMITH_TRACING", "true")
            env.setenv("LANGSMITH_ENDPOINT", stub.url)
            env.delenv("LANGSMITH_API_KEY", raising=False)
            env.delenv("LANGCHAIN_API_KEY", raising=False)
            reset_langsmith()
            try:
                assert configure_tracing() is False
                providers = providers_for(TITLES)
                graph = tag_nodes(build_graph(providers))
                cfg = ResearchConfig.from_values({"max_sections": 3})
                out = await _run(graph, providers, cfg, str(uuid.uuid4()), "no-key")
                assert out["report"]
                flush_traces()
                time.sleep(0.3)
            finally:
                reset_langsmith()
        assert configure_tracing() is False  # the environment as the suite sets it: tracing off, switch undone
        reset_langsmith()
        assert stub.requests == []
    assert created == [], "no LangSmith client, so no connection attempted"


@pytest.mark.parametrize(
    ("env", "requested", "enabled"),
    [
        ({"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "k"}, True, True),
        ({"LANGCHAIN_TRACING_V2": "true", "LANGCHAIN_API_KEY": "k"}, True, True),
        ({"LANGSMITH_TRACING": "true"}, True, False),
        ({"LANGSMITH_TRACING": "false", "LANGSMITH_API_KEY": "k"}, False, False),
        ({"LANGSMITH_TRACING_V2": "false", "LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "k"}, False, False),
        ({"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "  "}, True, False),
    ],
)
def test_tracing_is_enabled_only_when_asked_for_and_keyed(monkeypatch, env, requested, enabled):
    for name in ("LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING", "LANGCHAIN_TRACING_V2",
                 "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert (tracing_requested(), tracing_enabled()) == (requested, enabled)


def test_trace_options_without_resolved_models_or_tier():
    cfg = ResearchConfig.from_values({"models": {"planner": {"model": "qwen-big"}}})
    options = trace_options("r1", "t1", cfg)
    assert options["run_name"] == TRACE_NAME
    assert options["tags"] == ["nexa-research"]
    meta = options["metadata"]
    assert meta["models"]["planner"] == "qwen-big" and meta["models"]["collator"] == "default"
    assert meta["tier"] is None and meta["config_hash"] == cfg.fingerprint()
    merged = with_trace_options({"tags": ["mine"], "metadata": {"run_id": "forged", "source": "sdk"}, "run_name": "x"},
                                options)
    assert merged["tags"] == ["mine", "nexa-research"]
    assert merged["metadata"]["run_id"] == "r1" and merged["metadata"]["source"] == "sdk"
    assert merged["run_name"] == "x"
