"""The /metrics page: it parses with prometheus_client's own parser, labels requests by route template (never by
id), counts a run that just finished (status, duration, tokens, cache), shows the queue and the workers as Redis
holds them (the backlog in runs waiting, not queue messages), and still renders, saying so, when Redis is down.

Every test writes under its own Redis keys (`MetricKeys` pointed at a unique namespace), so the session's
shared Redis and reruns stay clean.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from nexa_research.providers.services.redis_launch import free_port
from nexa_research.server.job_queue import QUEUE, enqueue_run, make_broker
from nexa_research.server.observability.http_metrics import HttpMetrics
from nexa_research.server.observability.metrics import cluster_metrics, make_registry, metrics_response
from nexa_research.server.observability.run_metrics import MetricKeys, RunMetrics
from support.queue_messages import receive

pytestmark = pytest.mark.redis


@pytest.fixture
async def keys(redis_stack_url: str) -> AsyncIterator[MetricKeys]:
    space = f"test-metrics:{uuid.uuid4().hex[:12]}"
    yield MetricKeys(prefix=f"{space}:metrics", active=f"{space}:active", workers=f"{space}:workers",
                     queued=f"{space}:queued")
    redis = Redis.from_url(redis_stack_url)
    try:
        found = [key async for key in redis.scan_iter(match=f"{space}:*")]
        if found:
            await redis.delete(*found)
    finally:
        await redis.aclose()


def _app(redis_url: str, keys: MetricKeys, gate: type | None = None) -> FastAPI:
    registry = make_registry(redis_url, keys, worker_window_seconds=60)
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        if thing_id == 404:
            raise HTTPException(404, "no such thing")
        return {"thing_id": thing_id}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            for n in range(3):
                await asyncio.sleep(0.1)
                yield f"data: {n}\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    @app.get("/metrics")
    def metrics():  # a plain def: the collector reads Redis synchronously, so FastAPI runs it in a thread
        return metrics_response(registry)

    if gate is not None:
        app.add_middleware(gate)
    app.add_middleware(HttpMetrics, registry=registry)  # added last: outermost
    return app


def _page(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def _samples(page: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample on the page by (name, labels), through prometheus_client's parser."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(page) for s in family.samples}


def _value(page: str, name: str, **labels: str) -> float | None:
    return _samples(page).get((name, frozenset(labels.items())))


def test_requests_are_labelled_by_route_template_with_their_status(redis_stack_url, keys):
    with TestClient(_app(redis_stack_url, keys)) as client:
        for thing_id in ("1", "2", "3", "404", "not-a-number"):
            client.get(f"/things/{thing_id}")
        client.post("/things/1")
        client.get("/nowhere/7")
        page = _page(client)
    samples = _samples(page)
    routes = {dict(labels)["route"] for name, labels in samples if name == "nexa_http_requests_total"}
    assert routes == {"/things/{thing_id}", "unmatched"}  # the page's own request is counted after rendering
    assert _value(page, "nexa_http_requests_total", method="GET", route="/things/{thing_id}", status="200") == 3
    assert _value(page, "nexa_http_requests_total", method="GET", route="/things/{thing_id}", status="404") == 1
    assert _value(page, "nexa_http_requests_total", method="GET", route="/things/{thing_id}", status="422") == 1
    assert _value(page, "nexa_http_requests_total", method="POST", route="/things/{thing_id}", status="405") == 1
    assert _value(page, "nexa_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert _value(page, "nexa_http_request_seconds_count", method="GET", route="/things/{thing_id}") == 5
    assert _value(page, "nexa_metrics_redis_up") == 1


def test_a_stream_is_timed_until_its_last_byte(redis_stack_url, keys):
    with TestClient(_app(redis_stack_url, keys)) as client:
        assert client.get("/stream").text.count("data:") == 3
        page = _page(client)
    assert _value(page, "nexa_http_request_seconds_sum", method="GET", route="/stream") >= 0.3
    assert _value(page, "nexa_http_request_seconds_bucket", method="GET", route="/stream", le="0.25") == 0


class _Refuse:
    """A gate that answers before routing, as the API key gate does."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/things/"):
            await PlainTextResponse("no key", status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def test_a_request_refused_before_routing_keeps_its_route_template(redis_stack_url, keys):
    with TestClient(_app(redis_stack_url, keys, gate=_Refuse)) as client:
        client.get("/things/8")
        client.get("/things/9")
        page = _page(client)
    assert _value(page, "nexa_http_requests_total", method="GET", route="/things/{thing_id}", status="401") == 2


async def test_the_page_counts_a_run_that_just_finished(redis_stack_url, keys):
    redis = Redis.from_url(redis_stack_url)
    metrics = RunMetrics(redis, keys)
    client = TestClient(_app(redis_stack_url, keys))
    before = _value(_page(client), "nexa_runs_total", status="success") or 0
    steps = [
        {"node": "plan", "paragraph": None, "seconds": 1.0, "role": "planner", "model": "m-large",
         "input_tokens": 100, "output_tokens": 20},
        {"node": "search", "paragraph": 0, "seconds": 0.1, "role": None, "model": None,
         "input_tokens": 0, "output_tokens": 0, "cache": "hit"},
        {"node": "search", "paragraph": 1, "seconds": 0.2, "role": None, "model": None,
         "input_tokens": 0, "output_tokens": 0, "cache": "miss"},
        {"node": "synthesize", "paragraph": 0, "seconds": 2.0, "role": "writer", "model": "m-small",
         "input_tokens": 300, "output_tokens": 150},
        {"node": "collate", "paragraph": None, "seconds": 0.5, "role": "writer", "model": "m-small",
         "input_tokens": 50, "output_tokens": 25},
    ]
    run = {"run_id": "r1", "thread_id": f"t-{uuid.uuid4()}", "status": "success"}
    try:
        await metrics.run_finished(run, {"steps": steps, "report": {"metadata": {"cache": {}}}}, 3.5)
        page = _page(client)
        assert _value(page, "nexa_runs_total", status="success") == before + 1
        assert _value(page, "nexa_run_duration_seconds_count", status="success") == 1
        assert _value(page, "nexa_run_duration_seconds_sum", status="success") == 3.5
        assert _value(page, "nexa_run_duration_seconds_bucket", status="success", le="1.0") == 0
        assert _value(page, "nexa_run_duration_seconds_bucket", status="success", le="5.0") == 1
        assert _value(page, "nexa_run_duration_seconds_bucket", status="success", le="+Inf") == 1
        assert _value(page, "nexa_tokens_total", role="planner", model="m-large", kind="input") == 100
        assert _value(page, "nexa_tokens_total", role="writer", model="m-small", kind="output") == 175
        assert _value(page, "nexa_cache_requests_total", cache="search", result="hit") == 1
        assert _value(page, "nexa_cache_hit_ratio", cache="search") == 0.5
        assert _value(page, "nexa_cache_requests_total", cache="report", result="miss") == 1

        # A later run of the same thread hands back the thread's earlier steps too: only its own are counted.
        more = [{"node": "reflect", "paragraph": 0, "seconds": 1.0, "role": "reflector", "model": "m-small",
                 "input_tokens": 10, "output_tokens": 5}]
        await metrics.run_finished({**run, "run_id": "r2"}, {"steps": steps + more}, 40.0)
        await metrics.run_finished({**run, "run_id": "r3", "status": "error"}, None, 0.2)
        await metrics.quota_refused("free", "quota")
        page = _page(client)
        assert _value(page, "nexa_runs_total", status="success") == before + 2
        assert _value(page, "nexa_runs_total", status="error") == 1
        assert _value(page, "nexa_tokens_total", role="planner", model="m-large", kind="input") == 100
        assert _value(page, "nexa_tokens_total", role="reflector", model="m-small", kind="input") == 10
        assert _value(page, "nexa_run_duration_seconds_bucket", status="success", le="30.0") == 1
        assert _value(page, "nexa_run_duration_seconds_bucket", status="success", le="60.0") == 2
        assert _value(page, "nexa_cache_requests_total", cache="search", result="hit") == 1
        assert _value(page, "nexa_quota_refusals_total", tier="free", reason="quota") == 1
    finally:
        client.close()
        await redis.aclose()


async def test_a_report_served_from_the_cache_counts_as_a_report_hit(redis_stack_url, keys):
    redis = Redis.from_url(redis_stack_url)
    try:
        served = {"steps": [], "report": {"metadata": {"cache": {"search_hits": 4, "report_hits": 1}}}}
        await RunMetrics(redis, keys).run_finished({"thread_id": "t-cached", "status": "success"}, served, 0.3)
        page = _page(TestClient(_app(redis_stack_url, keys)))
    finally:
        await redis.aclose()
    assert _value(page, "nexa_cache_requests_total", cache="report", result="hit") == 1
    assert _value(page, "nexa_cache_requests_total", cache="search", result="hit") is None  # not this run's


async def test_active_runs_and_live_workers_come_from_redis(redis_stack_url, keys):
    redis = Redis.from_url(redis_stack_url)
    client = TestClient(_app(redis_stack_url, keys))
    try:
        assert _value(_page(client), "nexa_runs_waiting") == 0
        now = time.time()
        await redis.hset(keys.workers, mapping={"w1": f"{now}:2", "w2": f"{now - 1}:0", "dead": f"{now - 600}:4"})
        await redis.zadd(keys.active, {"run-a": now, "run-b": now})
        page = _page(client)
    finally:
        client.close()
        await redis.aclose()
    assert _value(page, "nexa_worker_active_runs", worker="w1") == 2
    assert _value(page, "nexa_worker_active_runs", worker="w2") == 0
    assert _value(page, "nexa_worker_active_runs", worker="dead") is None
    assert _value(page, "nexa_workers_live") == 2
    assert _value(page, "nexa_runs_active") == 2


async def test_the_backlog_is_counted_in_runs_waiting_not_in_queue_messages(redis_stack_factory):
    """Asked to queue the same runs again and again (the API, workers handing them back, every reaper), the queue
    holds one message per run; a run a worker took no longer counts, though its message stays in the stream."""
    server = redis_stack_factory()
    server.start()
    api, worker = make_broker(server.url), make_broker(server.url, consumer_name="w1")
    client = TestClient(_app(server.url, MetricKeys()))
    try:
        await worker.startup()
        for _ in range(3):
            for run_id in ("r1", "r2", "r3"):
                await enqueue_run(api, run_id)
        waiting_before = _value(_page(client), "nexa_runs_waiting")
        received = await receive(worker)
        waiting_after = _value(_page(client), "nexa_runs_waiting")
        redis = Redis.from_url(server.url)
        messages = await redis.xlen(QUEUE)
        await redis.aclose()
    finally:
        client.close()
        await api.shutdown()
        await worker.shutdown()
    assert waiting_before == 3
    assert received is not None and received["args"] == ["r1"]
    assert (waiting_after, messages) == (2, 3)


def test_the_cluster_metrics_join_the_registry_for_the_lifespan(redis_stack_url, keys):
    """The app's registry is made before its lifespan knows the Redis URL, as create_app must do."""
    registry = make_registry()
    app = FastAPI()

    @app.get("/metrics")
    def metrics():
        return metrics_response(registry)

    app.add_middleware(HttpMetrics, registry=registry)
    with TestClient(app) as client:
        assert _value(_page(client), "nexa_metrics_redis_up") is None
        with cluster_metrics(registry, redis_stack_url, keys, worker_window_seconds=60):
            page = _page(client)
        assert _value(page, "nexa_metrics_redis_up") == 1
        assert _value(page, "nexa_runs_waiting") == 0
        assert _value(_page(client), "nexa_metrics_redis_up") is None


def test_the_page_renders_without_redis_and_says_so():
    keys = MetricKeys(prefix="unused")
    started = time.monotonic()
    with TestClient(_app(f"redis://127.0.0.1:{free_port()}/0", keys)) as client:
        client.get("/things/1")
        page = _page(client)
    assert time.monotonic() - started < 5
    assert _value(page, "nexa_metrics_redis_up") == 0
    assert _value(page, "nexa_runs_active") is None
    assert _value(page, "nexa_http_requests_total", method="GET", route="/things/{thing_id}", status="200") == 1
