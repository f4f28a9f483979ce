"""The reaper: every worker's watch over runs that no live worker holds.

Every `recovery_seconds / 6` each worker scans the active runs (pending or running). A `running` run without a
lease lost its worker (SIGKILL, a crash, a lost machine): it is queued again, and the worker that takes it
continues from the run's Redis checkpoint. A `pending` run that no worker took for `pending_rekick_seconds` is
queued again too (its message may have died with a worker that had just received it). A short guard key
makes one worker re-queue a run per period, not all of them; a duplicate message is harmless anyway (the
lease admits one holder). The reaper also records the worker as alive, with its number of running runs, for
health checks and for the tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from redis.asyncio import Redis
from taskiq import AsyncBroker

from nexa_research.server.job_queue import enqueue_run
from nexa_research.server.lease import lease_holder
from nexa_research.server.records import PREFIX, RecordStore
from nexa_research.server.settings import ServerSettings

WORKERS = f"{PREFIX}:workers"


class Reaper:
    def __init__(
        self, redis: Redis, store: RecordStore, broker: AsyncBroker, worker_id: str, settings: ServerSettings
    ) -> None:
        self.redis, self.store, self.broker = redis, store, broker
        self.worker_id, self.settings = worker_id, settings

    async def loop(self, running: Callable[[], int]) -> None:
        while True:
            await self.redis.hset(WORKERS, self.worker_id, f"{time.time()}:{running()}")
            await self.sweep()
            await asyncio.sleep(self.settings.reaper_period_seconds)

    async def forget(self) -> None:
        await self.redis.hdel(WORKERS, self.worker_id)

    async def sweep(self) -> list[str]:
        """Queue again the active runs that no worker holds; return their ids."""
        requeued = []
        for run_id in await self.store.active_run_ids():
            run = await self.store.get_run(run_id)
            if run is None or await lease_holder(self.redis, run_id) is not None:
                continue
            if run["status"] == "pending":
                age = time.time() - datetime.fromisoformat(run["updated_at"]).timestamp()
                if age < self.settings.pending_rekick_seconds:
                    continue
                guard_seconds = self.settings.pending_rekick_seconds
            else:
                guard_seconds = self.settings.reaper_period_seconds
            guard = f"{PREFIX}:run:{run_id}:requeued"
            if await self.redis.set(guard, self.worker_id, nx=True, px=max(1000, int(guard_seconds * 1000))):
                await enqueue_run(self.broker, run_id)
                requeued.append(run_id)
        return requeued


async def live_workers(redis: Redis, within_seconds: float) -> dict[str, int]:
    """Workers seen within `within_seconds`, with their number of running runs."""
    alive = {}
    now = time.time()
    for worker, value in (await redis.hgetall(WORKERS)).items():
        seen, _, count = (value.decode() if isinstance(value, bytes) else value).partition(":")
        if now - float(seen) <= within_seconds:
            alive[worker.decode() if isinstance(worker, bytes) else worker] = int(count or 0)
    return alive
