"""The API's retention sweep: settles the threads runs wrote to, and drops what retention left behind.

A run on the server ends in a worker; retention (nexa_research/retention.py) needs the thread's graph state to tell
a finished thread from an unfinished one, and the runs API's record to know no run of it is pending or running.
Every API process holds both (its `ResearchRuntime` and the records), so each sweeps every `retention_sweep_seconds`,
one at a time across processes (a Redis lock; a sweep is idempotent, so a lock lost to a stall costs work, not
correctness). Each sweep:
- settles the threads noted since the last one (every root checkpoint notes its thread: worker runs, LangServe
  runs, and library runs on the same Redis that ended before settling, killed say); a thread with a run pending or
  running stays noted until its run ends;
- takes threads whose record expired off the thread list (listing and search walk it);
- drops the queue's delivered messages (server/job_queue.py `trim_delivered`).
A sweep that fails (Redis restarting) is logged and the next one tries again: retention is never worth a request.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from contextlib import AbstractAsyncContextManager

from redis.asyncio import Redis

from nexa_research.retention import ThreadRetention
from nexa_research.server.job_queue import trim_delivered
from nexa_research.server.periodic import repeating
from nexa_research.server.records import PREFIX, RecordStore

logger = logging.getLogger(__name__)
LOCK = f"{PREFIX}:retention:sweep"


class RetentionSweeper:
    def __init__(self, redis: Redis, store: RecordStore, retention: ThreadRetention, period_seconds: float) -> None:
        self.redis, self.store, self.retention = redis, store, retention
        self.period = period_seconds
        self._offset = 0  # where the walk over old thread records goes on from (kept threads are skipped)

    def running(self) -> AbstractAsyncContextManager[None]:
        """Sweep every `period` seconds while the block runs; a sweep under way finishes first (bounded)."""
        return repeating(self.sweep, self.period, "retention sweep")

    async def sweep(self) -> Counter[str] | None:
        """One sweep, unless another process is sweeping (None then). Counts of what was done."""
        lock = self.redis.lock(LOCK, timeout=max(60.0, self.period * 10), blocking=False)
        if not await lock.acquire():
            return None
        try:
            counts = await self.retention.settle_noted(busy=self._busy)
            counts["threads_forgotten"] = await self._forget_expired_threads()
            counts["queue_entries_dropped"] = await trim_delivered(self.redis)
        finally:
            await lock.release()
        if counts["expiring"] or counts["threads_forgotten"]:
            logger.info("retention sweep", extra={k: v for k, v in counts.items() if v})
        return counts

    async def _busy(self, thread_id: str) -> bool:
        return bool(await self.store.active_runs_of(thread_id))

    async def _forget_expired_threads(self) -> int:
        if self.retention.retention_seconds <= 0:
            return 0
        before = time.time() - self.retention.retention_seconds
        forgotten, looked_at = await self.store.forget_expired_threads(before, self._offset)
        self._offset = self._offset + looked_at - forgotten if looked_at else 0
        return forgotten
