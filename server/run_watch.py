"""One watcher for every run a worker executes: cancel requests checked each second, leases renewed every ttl/3.

Each run used to have a watcher task of its own, reading its cancel flag every second: 50 runs in flight on a
worker were 50 round trips a second and 50 timers, for flags that are almost never set. Here one task reads all
the flags with one MGET a second and renews the leases that are due (each lease's own compare-and-set script,
server/lease.py). What a run sees is unchanged: a cancel request stops it within about a second, and a lease
found lost (the process stalled past its TTL, another worker took the run) stops it at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from nexa_research.server.lease import RunLease, cancel_key

logger = logging.getLogger("nexa_research.worker")

Stop = Callable[[str, str], None]  # (run id, reason: "cancel:<action>" or "lease lost")


@dataclass
class _Watched:
    lease: RunLease
    renewed: float  # time.monotonic() of the last renewal (or the acquisition)


class RunWatch:
    """`stop(run_id, reason)` is called once per run that must stop; the run is no longer watched after it."""

    def __init__(self, redis: Redis, lease_ttl_seconds: float, stop: Stop, period_seconds: float = 1.0) -> None:
        self.redis = redis
        self.renew_every = lease_ttl_seconds / 3
        self.period = min(period_seconds, self.renew_every)
        self.stop = stop
        self._runs: dict[str, _Watched] = {}

    def add(self, run_id: str, lease: RunLease) -> None:
        """Watch a run whose lease was just acquired."""
        self._runs[run_id] = _Watched(lease, time.monotonic())

    def discard(self, run_id: str) -> None:
        self._runs.pop(run_id, None)

    async def loop(self) -> None:
        """Check every `period` seconds until cancelled; a failed check (Redis busy or gone) is logged and retried."""
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.check()
            except RedisError as exc:
                logger.warning("run watch: checking %d runs failed (%s); trying again", len(self._runs), exc)

    async def check(self) -> None:
        """One pass: stop the runs that were cancelled, renew the leases that are due, stop the runs that lost one."""
        if not self._runs:
            return
        watched = list(self._runs.items())
        flags = await self.redis.mget([cancel_key(run_id) for run_id, _ in watched])
        for (run_id, _), flag in zip(watched, flags, strict=True):
            if flag is not None:
                self._stop(run_id, f"cancel:{flag.decode() if isinstance(flag, bytes) else flag}")
        now = time.monotonic()
        due = [(run_id, w) for run_id, w in watched if run_id in self._runs and now - w.renewed >= self.renew_every]
        renewed = await asyncio.gather(*(w.lease.renew() for _, w in due))
        for (run_id, w), held in zip(due, renewed, strict=True):
            if held:
                w.renewed = now
            elif run_id in self._runs:
                self._stop(run_id, "lease lost")

    def _stop(self, run_id: str, reason: str) -> None:
        self._runs.pop(run_id, None)
        self.stop(run_id, reason)
