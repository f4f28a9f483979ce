"""The API's retention sweep: a thread whose run ended gets its expiry; a thread with a run pending or running is
left for its run's end; expired threads leave the thread list; one process sweeps at a time."""

from __future__ import annotations

import time

from langgraph.types import StateSnapshot
from redis.asyncio import Redis

from nexa_research.retention import SETTLE, ThreadRetention
from nexa_research.server.records import RecordStore
from nexa_research.server.retention_sweeper import LOCK, RetentionSweeper

DONE = StateSnapshot({"report": {}}, (), {}, None, None, None, (), ())


class Saver:
    async def athread_keys(self, thread_id: str) -> list[str]:
        return []


async def sweeper(redis: Redis, seconds: float = 3600) -> RetentionSweeper:
    async def state_of(thread_id: str) -> StateSnapshot:
        return DONE

    retention = ThreadRetention(redis, Saver(), seconds, state_of)  # type: ignore[arg-type]
    return RetentionSweeper(redis, RecordStore(redis), retention, period_seconds=1)


async def test_a_sweep_settles_threads_whose_runs_ended_and_leaves_busy_ones_noted(redis: Redis) -> None:
    store = RecordStore(redis)
    for thread_id, status in (("ended", "success"), ("busy", "running")):
        await store.create_thread(thread_id, {})
        await store.add_run({"run_id": f"r-{thread_id}", "thread_id": thread_id, "status": status, "created_at": "x"})
        await redis.zadd(SETTLE, {thread_id: time.time()})

    counts = await (await sweeper(redis)).sweep()

    assert counts is not None and counts["expiring"] == 1 and counts["busy"] == 1
    assert 0 < await redis.ttl(store.thread_key("ended")) <= 3600
    assert await redis.ttl(store.thread_key("busy")) == -1
    assert [t.decode() for t in await redis.zrange(SETTLE, 0, -1)] == ["busy"]


async def test_a_sweep_takes_expired_threads_off_the_list(redis: Redis) -> None:
    store = RecordStore(redis)
    await store.create_thread("expired", {})
    await redis.zadd(store.THREADS, {"expired": time.time() - 7200})
    await redis.delete(store.thread_key("expired"))

    counts = await (await sweeper(redis, seconds=3600)).sweep()

    assert counts is not None and counts["threads_forgotten"] == 1
    assert await store.all_thread_ids() == []


async def test_one_process_sweeps_at_a_time(redis: Redis) -> None:
    await redis.set(LOCK, "another API process")

    assert await (await sweeper(redis)).sweep() is None
