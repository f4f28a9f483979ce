"""The /metrics page: one registry per API process, holding its HTTP metrics and the cluster's run metrics.

Why not prometheus_client's multiprocess mode, or a port per worker (issue 10 allows either)? API processes
and workers may be many and on different machines, sharing only Redis. Multiprocess mode shares a folder, so it
stops at one machine, and its gauges need per-pid bookkeeping that a SIGKILLed worker leaves behind. A port per
worker makes Prometheus discover every worker, and the facts still would not add up right: a run may start on
one worker and finish on another, and queue depth or runs in flight belong to Redis, not to any process.

So the split is by what a number describes:
- facts about the cluster (runs by status and duration, tokens, cache use, quota refusals, queue depth, runs per
  worker) are kept in Redis (`RunMetrics` writes them, atomically) and every API process exports them through
  `ClusterCollector`, read at scrape time: scrape one API process, or aggregate copies with max();
- facts about one API process (its HTTP requests and latency, its CPU and memory) stay in its own registry
  (`HttpMetrics`, the process collector) and are told apart by Prometheus's `instance` label.
Workers serve no page: what they know is a cluster fact and goes to Redis.

The registry exists before Redis does: the app adds `HttpMetrics` when it is built, and the Redis URL is known
only once its lifespan has opened the runtime (the embedded Redis when REDIS_URL is unset). So the cluster
collector joins the registry for the lifespan's duration, through `cluster_metrics`.

The page is built synchronously (the collector reads Redis with a sync client and a one-second timeout), so
serve it from a plain `def` route, which FastAPI runs in its thread pool, off the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from starlette.responses import Response

from nexa_research.server.observability.cluster_collector import ClusterCollector
from nexa_research.server.observability.run_metrics import MetricKeys
from nexa_research.server.settings import ServerSettings


def make_registry(
    redis_url: str | None = None, keys: MetricKeys | None = None, worker_window_seconds: float | None = None
) -> CollectorRegistry:
    """A registry with this process's CPU and memory, and the cluster's run metrics when `redis_url` is known
    now (otherwise add them later with `cluster_metrics`). Pass it to `HttpMetrics` too."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    if redis_url is not None:
        registry.register(_collector(redis_url, keys, worker_window_seconds))
    return registry


@contextmanager
def cluster_metrics(
    registry: CollectorRegistry, redis_url: str, keys: MetricKeys | None = None,
    worker_window_seconds: float | None = None,
) -> Iterator[ClusterCollector]:
    """The cluster's run metrics on `registry` while the block runs; its Redis connections closed after."""
    collector = _collector(redis_url, keys, worker_window_seconds)
    registry.register(collector)
    try:
        yield collector
    finally:
        registry.unregister(collector)
        collector.close()


def metrics_response(registry: CollectorRegistry) -> Response:
    """The registry in the Prometheus text format."""
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _collector(redis_url: str, keys: MetricKeys | None, worker_window_seconds: float | None) -> ClusterCollector:
    """Workers count as live within `worker_window_seconds`; by default the recovery bound, as `/info` counts."""
    window = worker_window_seconds if worker_window_seconds is not None else ServerSettings().recovery_seconds
    return ClusterCollector(redis_url, keys, window)
