"""The server's keys of one thread, for retention (nexa_research/retention.py): its record, its runs' records, and
the short-lived copies of its runs (event logs, results, the metrics mark) and its state-update log.

Kept apart from the modules that write them so that naming them here imports no server machinery: the library's
own retention and `nexa threads prune` read them on any Redis a server may have used.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from nexa_research.server.event_log import ended_key, log_key
from nexa_research.server.observability.run_metrics import MetricKeys
from nexa_research.server.records import RecordStore
from nexa_research.server.run_results import result_key
from nexa_research.server.thread_stream import thread_log_key


async def server_thread_keys(redis: Redis, thread_id: str) -> tuple[list[str], list[str]]:
    """(state, buffers) that exist: the thread's and its runs' records; its runs' event logs and results and its
    metrics mark. Empty for a thread no server ran."""
    store = RecordStore(redis)
    run_ids = await store.run_ids(thread_id)
    state = [store.thread_key(thread_id), store.thread_runs_key(thread_id), *(store.run_key(r) for r in run_ids)]
    buffers = [*(log_key(r) for r in run_ids), *(ended_key(r) for r in run_ids), *(result_key(r) for r in run_ids),
               MetricKeys().steps_mark(thread_id), thread_log_key(thread_id)]
    async with redis.pipeline(transaction=False) as pipe:
        for key in (*state, *buffers):
            pipe.exists(key)
        present = await pipe.execute()
    return [k for k, here in zip(state, present, strict=False) if here], [
        k for k, here in zip(buffers, present[len(state):], strict=True) if here
    ]


async def forget_server_thread(redis: Redis, thread_id: str) -> None:
    """Take a deleted thread off the server's thread list (what search and listing walk)."""
    await redis.zrem(RecordStore.THREADS, thread_id)


async def server_threads(redis: Redis) -> dict[str, float]:
    """Threads the server lists, with when each was last updated (epoch seconds)."""
    entries: Any = await redis.zrange(RecordStore.THREADS, 0, -1, withscores=True)
    return {(t.decode() if isinstance(t, bytes) else t): float(score) for t, score in entries}


async def server_thread_busy(redis: Redis, thread_id: str) -> bool:
    """Whether a run of the thread is pending or running on the server."""
    return bool(await RecordStore(redis).active_runs_of(thread_id))
