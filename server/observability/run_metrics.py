"""Run facts counted in Redis: runs by status and duration, tokens by role and model, cache use, quota refusals.

These are facts about the cluster, not about one process: a run may start on one worker and finish on another,
and a quota is refused by whichever API process took the request. So they are written where every process
meets, as atomic HINCRBY/HINCRBYFLOAT in one MULTI per event, and read back by `ClusterCollector` in any API
process. Redis counters also outlive restarts, which Prometheus counters tolerate but do not need.

Every hash field is a JSON list of label values, so a model label holding `|` or `:` cannot split wrongly.

Tokens come from the run's step records (graph/state.py `StepRecord`). The graph's `steps` channel is additive
over a thread's whole life, so a resumed run (plan review) would hand back its predecessors' steps again; a
per-thread mark of how many steps were already counted makes each step count once. A run forked from an earlier
checkpoint hands back fewer steps than the mark: its new steps are then not counted (an undercount, never a
double count). The report's `metadata.cache` is not used for the same reason (it sums the thread's steps, and a
report served from the cache carries the counts of the run that made it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from nexa_research.server.job_queue import QUEUED
from nexa_research.server.reaper import WORKERS
from nexa_research.server.records import PREFIX, RecordStore

# Upper bounds in seconds: research runs take from a second (a cached report) to half an hour.
RUN_SECONDS_BUCKETS: tuple[float, ...] = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, math.inf)
STEPS_MARK_TTL_SECONDS = 30 * 24 * 3600  # a thread idle this long is counted afresh if it ever runs again
COLLATE_NODE = "collate"  # the node that builds a report; its step in a run means the report cache was missed


@dataclass(frozen=True)
class MetricKeys:
    """Where the metrics live in Redis; tests pass their own so they never touch a live server's keys."""

    prefix: str = f"{PREFIX}:metrics"
    active: str = RecordStore.ACTIVE
    workers: str = WORKERS
    queued: str = QUEUED

    @property
    def runs(self) -> str:
        return f"{self.prefix}:runs"

    @property
    def run_seconds(self) -> str:
        return f"{self.prefix}:run_seconds"

    @property
    def tokens(self) -> str:
        return f"{self.prefix}:tokens"

    @property
    def cache(self) -> str:
        return f"{self.prefix}:cache"

    @property
    def quota_refusals(self) -> str:
        return f"{self.prefix}:quota_refusals"

    def steps_mark(self, thread_id: str) -> str:
        return f"{self.prefix}:steps_counted:{thread_id}"

    def counters(self) -> list[str]:
        """The hashes `RunMetrics` writes (what a reset would delete)."""
        return [self.runs, self.run_seconds, self.tokens, self.cache, self.quota_refusals]


def field(*labels: str) -> str:
    return json.dumps(list(labels))


def labels_of(raw: bytes | str) -> list[str]:
    return json.loads(raw)


def bucket_label(bound: float) -> str:
    """The `le` label Prometheus prints for a bound (`+Inf`, `5.0`)."""
    return "+Inf" if math.isinf(bound) else str(float(bound))


def bucket_for(seconds: float) -> str:
    return next(bucket_label(b) for b in RUN_SECONDS_BUCKETS if seconds <= b)


class RunMetrics:
    """What the workers and the API processes report; one per process, over its async Redis client."""

    def __init__(self, redis: Redis, keys: MetricKeys | None = None) -> None:
        self.redis = redis
        self.keys = keys or MetricKeys()

    async def run_finished(self, run: dict[str, Any], result: dict[str, Any] | None, seconds: float) -> None:
        """Count a run that reached a final status (`run["status"]`) after `seconds` of execution.

        `result` is the run's final values (None for an error or a cancel); its steps not counted before on the
        thread add to the token and cache counters.
        """
        keys = self.keys
        status = str(run.get("status") or "unknown")
        steps = list((result or {}).get("steps") or [])
        thread_id = run.get("thread_id")
        new_steps = await self._uncounted(thread_id, steps) if thread_id and steps else steps
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(keys.runs, field(status), 1)
            pipe.hincrby(keys.run_seconds, field(status, "bucket", bucket_for(seconds)), 1)
            pipe.hincrbyfloat(keys.run_seconds, field(status, "sum"), float(seconds))
            pipe.hincrby(keys.run_seconds, field(status, "count"), 1)
            for (role, model, kind), count in _tokens(new_steps).items():
                pipe.hincrby(keys.tokens, field(role, model, kind), count)
            for (cache, outcome), count in _cache_use(status, result, new_steps).items():
                pipe.hincrby(keys.cache, field(cache, outcome), count)
            if thread_id and steps:
                pipe.set(keys.steps_mark(thread_id), len(steps), ex=STEPS_MARK_TTL_SECONDS)
            await pipe.execute()

    async def quota_refused(self, tier: str, reason: str) -> None:
        """Count a run refused by the quota (`reason`: "quota" or "concurrency")."""
        await self.redis.hincrby(self.keys.quota_refusals, field(tier, reason), 1)

    async def _uncounted(self, thread_id: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The thread's steps beyond its mark. Runs of one thread finish one at a time (the server admits one
        active run per thread, or queues them), so reading the mark before the write is not a race."""
        raw = await self.redis.get(self.keys.steps_mark(thread_id))
        counted = int(raw or 0)
        return steps[counted:] if counted <= len(steps) else []


def _tokens(steps: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    totals: dict[tuple[str, str, str], int] = {}
    for step in steps:
        role = step.get("role")
        if not role:
            continue  # a step that called no model
        model = step.get("model") or "unknown"
        for kind in ("input", "output"):
            count = int(step.get(f"{kind}_tokens") or 0)
            if count:
                totals[(role, model, kind)] = totals.get((role, model, kind), 0) + count
    return totals


def _cache_use(status: str, result: dict[str, Any] | None, steps: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Search cache hits and misses from this run's steps; a report served from the cache (a successful run
    that ran no step and returned a report marked `report_hits`) or built anew (a collate step)."""
    use: dict[tuple[str, str], int] = {}
    for step in steps:
        if step.get("cache") in ("hit", "miss"):
            use[("search", step["cache"])] = use.get(("search", step["cache"]), 0) + 1
    report = (result or {}).get("report") or {}
    served = ((report.get("metadata") or {}).get("cache") or {}).get("report_hits")
    if status == "success" and not steps and served and not (result or {}).get("__interrupt__"):
        use[("report", "hit")] = 1
    elif any(step.get("node") == COLLATE_NODE for step in steps):
        use[("report", "miss")] = 1
    return use
