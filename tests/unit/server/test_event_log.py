"""The event log's write path: each event is JSON text in the run's stream, read back as the value it was; a run's
events are queued without waiting, keep their order, come before the end marker, and a failed write fails the run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from nexa_research.server.event_log import EventLog, RunEvents, ended_key, log_key


async def test_an_event_reads_back_as_its_value_and_text_is_stored_as_given(redis: Redis) -> None:
    log = EventLog(redis)
    value = {"topic": "Gutenberg’s press", "n": 2**70, "nested": [{"score": 0.5, "none": None}]}

    first_id = await log.append("r1", "values", value)
    await log.append("r1", "custom", '{"already": "text"}')

    (stored_id, first), (_, second) = await redis.xrange(log_key("r1"))
    assert stored_id.decode() == first_id
    assert json.loads(first[b"data"]) == value  # 2**70 is past orjson's integers: json writes it
    assert first[b"event"] == b"values"
    assert json.loads(second[b"data"]) == {"already": "text"}


@pytest.mark.parametrize("value", [{"a": [1, 2.5, True, None, "é"]}, [{"x": {"y": []}}], 3])
async def test_event_data_is_json_text(redis: Redis, value: Any) -> None:
    await EventLog(redis).append("r2", "values", value)

    [(_, fields)] = await redis.xrange(log_key("r2"))
    assert json.loads(fields[b"data"]) == value


async def test_a_runs_events_queued_together_are_written_in_order_in_one_batch_before_the_end_marker(redis: Redis) -> None:
    log = EventLog(redis)
    events = RunEvents(log, "r3")
    batches = []
    execute = log.batcher._write_queued

    async def counted() -> None:
        batches.append(len(log.batcher._queued))
        await execute()

    log.batcher._write_queued = counted  # type: ignore[method-assign]
    for n in range(5):
        await events.publish("updates", {"n": n})  # never waits for the write
    assert await redis.xlen(log_key("r3")) == 0
    await events.flush()
    await log.end("r3")

    entries = await redis.xrange(log_key("r3"))
    assert [f[b"event"] for _, f in entries] == [b"updates"] * 5 + [b"__end__"]
    assert [json.loads(f[b"data"]) for _, f in entries[:5]] == [{"n": n} for n in range(5)]
    assert batches[0] == 5
    assert 0 < await redis.ttl(log_key("r3")) <= 3600


async def test_a_join_waits_for_the_end_alone_and_sees_it_once_written(redis: Redis) -> None:
    log = EventLog(redis)
    await log.append("r5", "values", {"n": 1})
    assert not await log.wait_ended("r5", block_ms=10)  # events are not the end

    waiting = asyncio.create_task(log.wait_ended("r5", block_ms=5000))
    await asyncio.sleep(0.05)
    await log.end("r5")

    assert await asyncio.wait_for(waiting, timeout=5)
    assert await log.wait_ended("r5", block_ms=10)  # and later readers see it at once
    assert 0 < await redis.ttl(ended_key("r5")) <= 3600


async def test_a_failed_event_write_fails_the_run_at_its_next_event_or_its_flush(redis: Redis) -> None:
    await redis.set(log_key("r4"), "not a stream")
    events = RunEvents(EventLog(redis), "r4")

    await events.publish("values", {"n": 1})
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await events.flush()
    await events.publish("values", {"n": 2})
    await asyncio.sleep(0.05)  # the write fails meanwhile
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await events.publish("values", {"n": 3})
