"""A thread's stream tells each run's end, even when it reads the run between the worker recording the final
status and writing the end marker (server/worker.py `_finish` does both, a few Redis calls apart): a reader that
dropped the run in that window never sent `run_done`, and a JS SDK client waiting for it hung."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from redis.asyncio import Redis

from nexa_research.server.event_log import END_EVENT, log_key
from nexa_research.server.thread_stream import ThreadStream

pytestmark = pytest.mark.redis


class FinishedRunStore:
    """The record store as the stream reads it: one run on the thread, already in a final status."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    async def run_ids(self, thread_id: str) -> list[str]:
        return [self.run_id]

    async def get_run(self, run_id: str) -> dict:
        return {"run_id": run_id, "status": "success"}


async def test_run_done_is_told_when_the_status_is_final_before_the_end_marker(redis_stack_url):
    redis = Redis.from_url(redis_stack_url)
    run_id, thread_id = "run-status-before-end", "thread-status-before-end"
    key = log_key(run_id)
    await redis.delete(key)
    try:
        await redis.xadd(key, {"event": "metadata", "data": orjson.dumps({"run_id": run_id, "attempt": 1})})
        stream = ThreadStream(redis, FinishedRunStore(run_id), thread_id, ["lifecycle"], after="0")  # type: ignore[arg-type]
        events = stream.events(block_ms=100)
        started = await asyncio.wait_for(anext(events), 5)
        assert started is not None and orjson.loads(started.data)["run_id"] == run_id
        for _ in range(3):  # quiet reads while the run's status is final and its end marker not yet written
            assert await asyncio.wait_for(anext(events), 5) is None
        await redis.xadd(key, {"event": END_EVENT, "data": "null"})
        told = None
        for _ in range(20):
            told = await asyncio.wait_for(anext(events), 5)
            if told is not None:
                break
        assert told is not None and orjson.loads(told.data) == {"status": "run_done", "run_id": run_id}
    finally:
        await redis.delete(key)
        await redis.aclose()
