"""A run on a worker process is traced to LangSmith (a stand-in on 127.0.0.1) with its metadata, and its logs
carry the correlation id of the request that created it and never the API key."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from support.server_harness import make_key
from support.server_providers import TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}


async def test_a_run_on_a_worker_is_traced_with_its_metadata_and_logged_with_its_correlation_id(
    cluster_factory, server_env, langsmith_stub
):
    key = make_key(server_env["REDIS_URL"], "traced", "pro")
    tracing = {name: os.environ[name] for name in ("LANGSMITH_TRACING", "LANGSMITH_API_KEY", "LANGSMITH_ENDPOINT",
                                                   "LANGSMITH_PROJECT")}
    cluster = cluster_factory(**tracing)
    try:
        url = cluster.start_api()
        cluster.start_worker()
        cluster.wait_for_workers(1)
        async with httpx.AsyncClient(base_url=url, headers={"x-api-key": key, "X-Request-ID": "corr-test-42"},
                                     timeout=120) as http:
            created = await http.post("/runs/wait", json={"assistant_id": "nexa_research", "input": {"topic": TOPIC},
                                                          "context": QUICK})
        assert created.status_code == 200 and created.headers["x-request-id"] == "corr-test-42"
        run_id = created.headers["content-location"].split("/")[-2]
        runs = langsmith_stub.wait_until(
            lambda rs: any(r["id"] == run_id and r.get("end_time") for r in rs)
            and any("node:plan" in (r.get("tags") or []) for r in rs), 60)
    finally:
        cluster.stop()
    roots = [r for r in runs if r.get("parent_run_id") is None]
    assert [r["id"] for r in roots] == [run_id], "one trace per run, rooted at the run"
    metadata = roots[0]["metadata"]
    assert metadata["run_id"] == run_id and metadata["tier"] == "pro" and metadata["thread_id"]
    assert set(metadata["prompt_versions"]) >= {"planner", "synthesizer"} and metadata["config_hash"]
    assert set(metadata["models"]) >= {"planner", "synthesizer"}
    assert any("node:plan" in (r.get("tags") or []) for r in runs)

    worker_log = "".join(p.read_text() for p in cluster.logs.glob("worker-*.log"))
    lines = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("run_id") == run_id]
    assert {line["event"] for line in mine} >= {"run started", "run finished"}
    assert all(line["correlation_id"] == "corr-test-42" for line in mine)
    everything = worker_log + "".join(p.read_text() for p in cluster.logs.glob("api-*.log"))
    assert key not in everything and key.split("_")[2] not in everything, "no API key in any log"
