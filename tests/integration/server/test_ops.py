"""Operations: the detailed health check and the Prometheus metrics page of a real server with a worker."""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk import get_client
from prometheus_client.parser import text_string_to_metric_families

from support.server_harness import auth_headers
from support.server_providers import TOPIC

pytestmark = pytest.mark.redis


def sample(page: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(page):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_detailed_health_needs_a_key_and_reports_each_dependency(nexa_server):
    assert httpx.get(f"{nexa_server.url}/health/detailed").status_code == 401
    body = httpx.get(f"{nexa_server.url}/health/detailed", headers=auth_headers(), timeout=30).json()
    checks = body["checks"]
    assert set(checks) == {"redis", "knowledge_base", "llm", "search", "workers"}
    assert checks["redis"]["status"] == "up" and checks["workers"]["status"] == "up"
    assert all(c["status"] in ("up", "down") and c["latency_ms"] >= 0 for c in checks.values())
    assert isinstance(checks["workers"]["runs_waiting"], int)


async def test_metrics_page_parses_and_counts_a_run_that_just_finished(nexa_server):
    before = httpx.get(f"{nexa_server.url}/metrics").text
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "nexa_research", input={"topic": TOPIC},
                           context={"max_iterations": 1, "max_sections": 4})
    after = httpx.get(f"{nexa_server.url}/metrics").text
    assert sample(after, "nexa_runs_total", status="success") == sample(before, "nexa_runs_total", status="success") + 1
    assert sample(after, "nexa_run_duration_seconds_count", status="success") >= 1
    assert sample(after, "nexa_tokens_total", role="synthesizer", kind="output") > 0
    assert sample(after, "nexa_workers_live") == 1
    assert sample(after, "nexa_http_requests_total", route="/threads/{thread_id}/runs/wait", status="200") >= 1
    assert thread["thread_id"] not in after, "ids never become labels"
