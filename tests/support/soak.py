"""A soak of the server, shared by tests/integration/server/test_soak.py (short, CI) and bench/soak_server.py (long).

A burst of runs several times the workers' slots, on simulated providers slow enough that a run takes tens of
seconds (bench/simulated_providers.py, as bench/bench_server.py loads them), while the API and the workers are
stopped and started again (SIGTERM and SIGKILL) and clients stream each run with langgraph_sdk, reconnecting when
a stream breaks. It records what the issue's guarantees are about, for the caller to assert or print:
- every accepted run finished once, with its report: its status, its sections, the cluster's success counter
  (a run finished twice counts twice) and the end markers in its event log;
- no run waits behind copies of others: the live messages per run in the queue, sampled all along;
- every stopped process is gone within its bound;
- Redis memory returns to its baseline after retention, and an unfinished thread (paused for plan review)
  is kept whole meanwhile.
The baseline is the idle server after one run whose thread was deleted: the first runs on a fresh Redis allocate
about 1 MB inside Redis and its modules once (in no key, and not again: bench/server.md), which is not a leak.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client
from redis.asyncio import Redis

from nexa_research.server.observability.run_metrics import MetricKeys
from support.queue_messages import live_messages_per_run
from support.redis_memory import memory_breakdown, settled_memory, thread_key_count, thread_keys
from support.server_harness import Cluster

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from bench_server import KNOBS, SUBJECTS, theoretical_path  # noqa: E402 - the providers the processes load

DAY = 86_400
GRACEFUL_API_SECONDS = 10  # what `nexa serve` gives uvicorn (timeout_graceful_shutdown)


@dataclass(frozen=True)
class SoakPlan:
    runs: int = 18
    workers: int = 2
    slots: int = 3
    llm_latency: float = 3.0
    search_latency: float = 0.5
    retention_seconds: float = 20.0
    shutdown_seconds: float = 10.0
    # what happens, in order, `every` seconds apart once the burst is accepted (each stopped process is replaced)
    disruptions: tuple[str, ...] = ("sigterm-worker", "sigkill-api", "sigkill-worker", "sigterm-api")
    every: float = 6.0

    def env(self) -> dict[str, str]:
        """What the API and worker processes get on top of the harness's environment."""
        return {
            "NEXA_SERVER_PROVIDERS": "bench_server:providers",
            "BENCH_LLM_LATENCY": str(self.llm_latency), "BENCH_SEARCH_LATENCY": str(self.search_latency),
            "NEXA_RETENTION_DAYS": repr(self.retention_seconds / DAY), "NEXA_SERVER_RETENTION_SWEEP_SECONDS": "1",
            "NEXA_SERVER_SHUTDOWN_SECONDS": str(self.shutdown_seconds),
            "NEXA_SERVER_REQUESTS_PER_MINUTE_PER_KEY": "1000000", "NEXA_SERVER_REQUESTS_PER_MINUTE_PER_IP": "1000000",
        }

    @property
    def run_seconds(self) -> float:
        return theoretical_path(self.llm_latency, self.search_latency)


@dataclass
class RunSeen:
    """One accepted run as its client saw it."""

    thread_id: str
    run_id: str
    status: str | None = None
    sections: list[str] = field(default_factory=list)
    end_markers: int | None = None
    attempts: int = 0
    reconnects: int = 0
    event_ids: list[str] = field(default_factory=list)

    @property
    def reported(self) -> bool:
        """Finished with the report the simulated providers write: every planned section."""
        return self.status == "success" and self.sections == list(SUBJECTS)


@dataclass
class Stop:
    what: str  # e.g. "sigterm-worker"
    seconds: float | None  # until the process was gone; None: still there at the bound
    bound: float


@dataclass
class SoakReport:
    plan: SoakPlan
    runs: list[RunSeen]
    stops: list[Stop]
    successes_counted: int
    other_statuses_counted: dict[str, int]
    max_live_messages_per_run: int
    samples: int
    memory: dict[str, int]  # baseline, peak, after (used_memory, bytes)
    breakdown: dict[str, dict[str, int]]  # at the baseline and after: Redis's own accounts, keys by prefix
    trend: list[tuple[float, int, int]]  # every 5 s from the burst on: (seconds, runs finished, used_memory)
    burst_seconds: float
    retention_wait_seconds: float
    unfinished_kept: bool
    leftover_keys: int

    @property
    def duplicate_event_ids(self) -> int:
        return sum(len(r.event_ids) - len(set(r.event_ids)) for r in self.runs)


async def run_soak(cluster: Cluster, redis_url: str, plan: SoakPlan, api_key: str | None) -> SoakReport:
    """The soak on a cluster whose API answers and whose workers are registered; leaves it running."""
    redis = Redis.from_url(redis_url)
    client = get_client(url=cluster.url, api_key=api_key,
                        timeout=httpx.Timeout(connect=5, read=60, write=30, pool=60))
    try:
        return await _soak(cluster, redis, client, plan)
    finally:
        await redis.aclose()


async def _soak(cluster: Cluster, redis: Redis, client: Any, plan: SoakPlan) -> SoakReport:
    warm_up = await _accept(client, -2)
    await client.runs.join(warm_up.thread_id, warm_up.run_id)
    await client.threads.delete(warm_up.thread_id)
    baseline = await settled_memory(redis)
    breakdown = {"baseline": await memory_breakdown(redis)}
    review = await _accept(client, -1, review_plan=True)  # the unfinished thread: paused for plan review
    await client.runs.join(review.thread_id, review.run_id)
    counted_before = await _statuses(redis)
    sampler = _Sampler(redis, counted_before)
    sampling = asyncio.create_task(sampler.loop())
    started = time.monotonic()
    accepted = await asyncio.gather(*(_accept(client, i) for i in range(plan.runs)))
    clients = [asyncio.create_task(_follow(client, redis, seen)) for seen in accepted]
    stops = await _disrupt(cluster, plan)
    await asyncio.gather(*clients)
    burst_seconds = time.monotonic() - started
    counted = _delta(await _statuses(redis), counted_before)

    review_state = await client.threads.get_state(review.thread_id)
    retention_started = time.monotonic()
    await _wait_for_retention(redis, review, plan.retention_seconds * 3 + 30)
    review_kept = await _kept_whole(redis, review)
    sampler.done = True
    await sampling
    await client.threads.delete(review.thread_id)  # an unfinished thread goes only when someone deletes it
    leftover = await thread_key_count(redis)
    after = await settled_memory(redis)
    breakdown["after"] = await memory_breakdown(redis)
    return SoakReport(
        plan=plan, runs=accepted, stops=stops, successes_counted=counted.pop("success", 0),
        other_statuses_counted=dict(counted), max_live_messages_per_run=sampler.max_per_run, samples=sampler.samples,
        memory={"baseline": baseline, "peak": sampler.peak_memory, "after": after}, breakdown=breakdown,
        trend=sampler.trend,
        burst_seconds=burst_seconds, retention_wait_seconds=time.monotonic() - retention_started,
        unfinished_kept=review_kept and bool(review_state["interrupts"]), leftover_keys=leftover,
    )


async def _accept(client: Any, i: int, review_plan: bool = False) -> RunSeen:
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": f"Soak topic number {i}"},
                                   context={**KNOBS, "review_plan": review_plan},
                                   stream_mode=["values", "updates", "custom"])
    return RunSeen(thread["thread_id"], run["run_id"])


async def _follow(client: Any, redis: Redis, seen: RunSeen) -> None:
    """Stream the run from its first event to its end, reconnecting after the last event seen whenever the stream
    breaks (langgraph_sdk reconnects by itself first, for about 15 s); then join it."""
    last = "0"  # from the first event (what the server sends without Last-Event-ID too)
    while True:
        try:
            async for part in client.runs.join_stream(seen.thread_id, seen.run_id, last_event_id=last):
                if part.id:
                    seen.event_ids.append(part.id)
                    last = part.id
            break
        except (httpx.HTTPError, ConnectionError) as exc:  # the API was stopped under it: connect again
            if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 404:
                raise RuntimeError(f"run {seen.run_id} was gone before its client read its end: {exc}") from exc
            seen.reconnects += 1
            if seen.reconnects > 50:
                raise RuntimeError(f"run {seen.run_id}: its stream kept failing ({exc})") from exc
            await asyncio.sleep(1)
    final = await _patiently(lambda: client.runs.join(seen.thread_id, seen.run_id))
    run = await _patiently(lambda: client.runs.get(seen.thread_id, seen.run_id))
    events = await redis.xrange(f"nexa:srv:run:{seen.run_id}:events")
    seen.end_markers = sum(1 for _, fields in events if fields.get(b"event") == b"__end__")
    seen.status, seen.attempts = run["status"], int(await _attempt(redis, seen.run_id))
    seen.sections = [s["title"] for s in ((final or {}).get("report") or {}).get("sections", [])]


async def _patiently(call: Any, tries: int = 30) -> Any:
    for attempt in range(tries):
        try:
            return await call()
        except httpx.TransportError:
            if attempt == tries - 1:
                raise
            await asyncio.sleep(1)
    return None


async def _attempt(redis: Redis, run_id: str) -> int:
    raw = await redis.get(f"nexa:srv:run:{run_id}")
    return int(json.loads(raw).get("attempt") or 0) if raw else 0


async def _disrupt(cluster: Cluster, plan: SoakPlan) -> list[Stop]:
    """Stop one process after another (a worker: the oldest still running; the API: the one serving) and start a
    new one in its place."""
    stops = []
    for what in plan.disruptions:
        await asyncio.sleep(plan.every)
        kind, role = what.split("-")
        pool = cluster.workers if role == "worker" else cluster.apis
        victim = next(p for p in pool if p.poll() is None)
        bound = plan.shutdown_seconds if role == "worker" else GRACEFUL_API_SECONDS + 5.0
        bound = bound if kind == "sigterm" else 5.0
        began = time.monotonic()
        victim.send_signal(signal.SIGTERM if kind == "sigterm" else signal.SIGKILL)
        gone = await asyncio.to_thread(_wait, victim, bound)
        stops.append(Stop(what, time.monotonic() - began if gone else None, bound))
        if role == "worker":
            cluster.start_worker(concurrency=plan.slots)
        else:
            await asyncio.to_thread(cluster.start_api, None, ["--timeout-graceful-shutdown", str(GRACEFUL_API_SECONDS)])
    return stops


def _wait(process: subprocess.Popen, seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


class _Sampler:
    """Every half second: the live messages per run in the queue (waiting for a worker, or received and not yet
    acknowledged), and Redis memory; every 5 s a point of the trend."""

    def __init__(self, redis: Redis, counted_before: Counter[str]) -> None:
        self.redis, self.done, self.counted_before = redis, False, counted_before
        self.max_per_run = self.samples = self.peak_memory = 0
        self.trend: list[tuple[float, int, int]] = []

    async def loop(self) -> None:
        started = time.monotonic()
        while not self.done:
            per_run = await live_messages_per_run(self.redis)
            self.max_per_run = max(self.max_per_run, *per_run.values(), 0)
            used = int((await self.redis.info("memory"))["used_memory"])
            self.peak_memory = max(self.peak_memory, used)
            if self.samples % 10 == 0:
                finished = _delta(await _statuses(self.redis), self.counted_before).get("success", 0)
                self.trend.append((time.monotonic() - started, finished, used))
            self.samples += 1
            await asyncio.sleep(0.5)


async def _statuses(redis: Redis) -> Counter[str]:
    raw = await redis.hgetall(MetricKeys().runs)
    return Counter({json.loads(k)[0]: int(v) for k, v in raw.items()})


def _delta(after: Counter[str], before: Counter[str]) -> Counter[str]:
    return Counter({k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)})


async def _wait_for_retention(redis: Redis, kept: RunSeen, timeout: float) -> None:
    """Until the only thread keys left are the unfinished thread's. Its own keys are told by name, not counted: it
    has keys outside the thread patterns too (its run's event log, the metrics' mark), so comparing counts stopped
    the wait while a finished thread still had a key to expire, and that key was then counted as left over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(
        kept.thread_id not in key and kept.run_id not in key for key in await thread_keys(redis)
    ):
        await asyncio.sleep(1)


async def _keys_of(redis: Redis, seen: RunSeen) -> list[bytes]:
    return [k for pattern in (f"*{seen.thread_id}*", f"nexa:srv:run:{seen.run_id}*")
            async for k in redis.scan_iter(match=pattern, count=1000)]


async def _kept_whole(redis: Redis, seen: RunSeen) -> bool:
    """The unfinished thread's checkpoints and records are all there, none expiring (its run's event log and
    result and the copy of its end marker, and the metrics' mark, are short-lived copies with their own expiry)."""
    keys = [k for k in await _keys_of(redis, seen)
            if not k.endswith((b":events", b":ended", b":result")) and not k.startswith(b"nexa:srv:metrics:")]
    return any(k.startswith(b"checkpoint:") for k in keys) and all([await redis.ttl(k) == -1 for k in keys])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
