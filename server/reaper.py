"""The reaper: every worker's watch over runs that no live worker holds, and over the queue's lost deliveries.

Every `recovery_seconds / 6` each worker scans the queued runs and the active runs (pending or running):
- a message a worker received and did not acknowledge within a lease TTL was lost with that worker: it is
  re-delivered once (server/job_queue.py `redeliver`; of several reapers, one succeeds);
- an active run with a message still waiting in the queue is left alone: queuing it again would add a copy
  behind the same backlog and deliver it no sooner;
- a `running` run without a lease and without a message lost its worker (SIGKILL, a crash, a lost machine): it
  is queued again, and the worker that takes it continues from the run's Redis checkpoint;
- a `pending` run without a lease and without a message for `pending_rekick_seconds` lost its message (the API
  stopped between recording and queuing it): it is queued again. The wait keeps a run whose message a worker is
  just receiving from being queued twice.
Queuing is a no-op while the run has a live message, so reapers racing each other add one message, not several.
The reaper also records the worker as alive, with its number of running runs, for health checks and the tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from redis.asyncio import Redis

from nexa_research.server.job_queue import RunQueueBroker, drop_message, enqueue_run, queued_messages, redeliver
from nexa_research.server.lease import lease_holder
from nexa_research.server.records import PREFIX, RecordStore
from nexa_research.server.settings import ServerSettings

WORKERS = f"{PREFIX}:workers"


class Reaper:
    def __init__(
        self, redis: Redis, store: RecordStore, broker: RunQueueBroker, worker_id: str, settings: ServerSettings
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
        """Re-deliver lost messages and queue again the active runs that nothing holds; return those runs' ids."""
        requeued = []
        active = await self.store.active_run_ids()
        lost_after_ms = int(self.settings.lease_ttl_seconds * 1000)
        messages = await queued_messages(self.redis, lost_after_ms)
        for run_id, (message_id, state) in messages.items():
            if state == "lost" and run_id in active:
                if await redeliver(self.redis, run_id, message_id):
                    requeued.append(run_id)
            elif state in ("lost", "gone"):
                await drop_message(self.redis, run_id, message_id)
        for run_id in active:
            if messages.get(run_id, ("", "gone"))[1] != "gone":
                continue  # a message for it waits, is being received, or was just re-delivered
            run = await self.store.get_run(run_id)
            if run is None or await lease_holder(self.redis, run_id) is not None:
                continue
            if run["status"] == "pending":
                age = time.time() - datetime.fromisoformat(run["updated_at"]).timestamp()
                if age < self.settings.pending_rekick_seconds:
                    continue
            if await enqueue_run(self.broker, run_id):
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
