"""The cluster's run metrics, read from Redis at each scrape by a custom prometheus collector.

Every API process exports the same values (they are the cluster's, not the process's): scrape one API process,
or aggregate the copies with max(), never sum(). Values are read at scrape time rather than mirrored into
in-process metrics, so a scrape of any process is current and no process holds a stale copy.

`collect()` is synchronous (prometheus_client calls it from `generate_latest`), so it uses a sync Redis client
with short timeouts and no retries, and reads everything in one pipelined round trip. A Redis failure never
breaks the page: the process's own metrics are still served, with `nexa_metrics_redis_up 0`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from nexa_research.server.observability.run_metrics import RUN_SECONDS_BUCKETS, MetricKeys, bucket_label, labels_of

logger = logging.getLogger("nexa_research.metrics")


@dataclass
class _Snapshot:
    """What one scrape read from Redis, still in Redis's shape (bytes keys, string numbers)."""

    runs: dict[bytes, bytes]
    run_seconds: dict[bytes, bytes]
    tokens: dict[bytes, bytes]
    cache: dict[bytes, bytes]
    quota_refusals: dict[bytes, bytes]
    active: int
    workers: dict[bytes, bytes]
    runs_waiting: int


class ClusterCollector(Collector):
    def __init__(
        self, redis_url: str, keys: MetricKeys | None = None, worker_window_seconds: float = 60.0,
        timeout_seconds: float = 1.0,
    ) -> None:
        self.keys = keys or MetricKeys()
        self.worker_window_seconds = worker_window_seconds
        self._redis = Redis.from_url(
            redis_url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),  # a scrape is retried by Prometheus itself; here it must stay fast
        )
        self._was_up = True

    def close(self) -> None:
        self._redis.close()

    def collect(self) -> Iterator[Metric]:
        try:
            snapshot = self._read()
        except RedisError as exc:
            if self._was_up:
                logger.warning("metrics: Redis unreachable, cluster metrics left out: %s", exc)
            self._was_up = False
            yield _gauge("nexa_metrics_redis_up", "1 when the cluster metrics could be read from Redis.", 0)
            return
        if not self._was_up:
            logger.info("metrics: Redis reachable again")
        self._was_up = True
        yield _gauge("nexa_metrics_redis_up", "1 when the cluster metrics could be read from Redis.", 1)
        yield from self._families(snapshot)

    # reading ------------------------------------------------------------------------------------------------
    def _read(self) -> _Snapshot:
        keys = self.keys
        pipe = self._redis.pipeline(transaction=False)
        for name in (keys.runs, keys.run_seconds, keys.tokens, keys.cache, keys.quota_refusals):
            pipe.hgetall(name)
        pipe.zcard(keys.active)
        pipe.hgetall(keys.workers)
        pipe.hlen(keys.queued)
        runs, run_seconds, tokens, cache, refusals, active, workers, waiting = pipe.execute(raise_on_error=False)
        for value in (runs, run_seconds, tokens, cache, refusals, active, workers, waiting):
            if isinstance(value, Exception):
                raise value
        return _Snapshot(runs, run_seconds, tokens, cache, refusals, active=int(active), workers=workers,
                         runs_waiting=int(waiting))

    # exporting ----------------------------------------------------------------------------------------------
    def _families(self, s: _Snapshot) -> Iterator[Metric]:
        runs = CounterMetricFamily("nexa_runs", "Runs that reached a final status.", labels=["status"])
        for raw, value in s.runs.items():
            runs.add_metric(labels_of(raw), float(value))
        yield runs
        yield _durations(s.run_seconds)
        yield _gauge("nexa_runs_active", "Runs pending or running in the cluster.", s.active)
        yield _gauge("nexa_runs_waiting", "Runs queued and not yet taken by a worker (the backlog, in runs: a run "
                     "has at most one message in the queue).", s.runs_waiting)
        live = self._live_workers(s.workers)
        per_worker = GaugeMetricFamily("nexa_worker_active_runs", "Runs executing on each live worker.",
                                       labels=["worker"])
        for worker, running in sorted(live.items()):
            per_worker.add_metric([worker], running)
        yield per_worker
        yield _gauge("nexa_workers_live", f"Workers seen within {self.worker_window_seconds:g} s.", len(live))
        tokens = CounterMetricFamily("nexa_tokens", "Model tokens by role, model and kind (input or output).",
                                     labels=["role", "model", "kind"])
        for raw, value in s.tokens.items():
            tokens.add_metric(labels_of(raw), float(value))
        yield tokens
        yield from _cache_families(s.cache)
        refusals = CounterMetricFamily("nexa_quota_refusals", "Runs refused by a key's quota, by tier and reason.",
                                       labels=["tier", "reason"])
        for raw, value in s.quota_refusals.items():
            refusals.add_metric(labels_of(raw), float(value))
        yield refusals

    def _live_workers(self, workers: dict[bytes, bytes]) -> dict[str, int]:
        """Workers whose heartbeat ("timestamp:running", server/reaper.py) is recent; a killed worker's stays
        in the hash, so the window is what keeps its label from lingering."""
        now, live = time.time(), {}
        for worker, value in workers.items():
            seen, _, running = _text(value).partition(":")
            try:
                fresh = now - float(seen) <= self.worker_window_seconds
            except ValueError:
                continue  # not a heartbeat this version writes
            if fresh:
                live[_text(worker)] = int(running or 0)
        return live


def _durations(raw: dict[bytes, bytes]) -> HistogramMetricFamily:
    """Cumulative buckets from the per-bucket counts `RunMetrics` stores."""
    per_status: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        status, kind, *rest = labels_of(key)
        entry = per_status.setdefault(status, {"buckets": {}, "sum": 0.0})
        if kind == "bucket":
            entry["buckets"][rest[0]] = int(value)
        elif kind == "sum":
            entry["sum"] = float(value)
    family = HistogramMetricFamily("nexa_run_duration_seconds", "Execution time of finished runs, by final status.",
                                   labels=["status"])
    for status, entry in sorted(per_status.items()):
        cumulative, buckets = 0, []
        for bound in RUN_SECONDS_BUCKETS:
            cumulative += entry["buckets"].get(bucket_label(bound), 0)
            buckets.append((bucket_label(bound), cumulative))
        family.add_metric([status], buckets, sum_value=entry["sum"])
    return family


def _cache_families(raw: dict[bytes, bytes]) -> Iterator[Metric]:
    requests = CounterMetricFamily("nexa_cache_requests", "Cache lookups by cache (search, report) and result.",
                                   labels=["cache", "result"])
    counts: dict[str, dict[str, float]] = {}
    for key, value in raw.items():
        cache, result = labels_of(key)
        requests.add_metric([cache, result], float(value))
        counts.setdefault(cache, {})[result] = float(value)
    yield requests
    ratio = GaugeMetricFamily("nexa_cache_hit_ratio", "Hits over lookups since the counters began, by cache.",
                              labels=["cache"])
    for cache, by_result in sorted(counts.items()):
        total = by_result.get("hit", 0.0) + by_result.get("miss", 0.0)
        if total:
            ratio.add_metric([cache], by_result.get("hit", 0.0) / total)
    yield ratio


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
