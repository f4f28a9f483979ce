"""Stream appends from many tasks: written together, each returning its own entry id, in the order they were made;
a failed write raises in every append it carried."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.asyncio import Redis

from nexa_research.server.event_log import EventLog, log_key
from nexa_research.server.stream_appender import StreamAppender


def count_pipelines(redis: Redis) -> list[int]:
    """Patch `redis.pipeline` to record how many commands each pipeline executed."""
    sizes: list[int] = []
    make = redis.pipeline

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = make(*args, **kwargs)
        execute = pipe.execute

        async def counted(*a: Any, **k: Any) -> Any:
            sizes.append(len(pipe.command_stack))
            return await execute(*a, **k)

        pipe.execute = counted  # type: ignore[method-assign]
        return pipe

    redis.pipeline = pipeline  # type: ignore[method-assign]
    return sizes


async def test_appends_made_together_go_in_one_pipeline_and_keep_their_order(redis: Redis) -> None:
    sizes = count_pipelines(redis)
    appender = StreamAppender(redis)

    ids = await asyncio.gather(*(appender.add(f"s{i % 3}", {"n": i}) for i in range(30)))

    assert sizes == [30]
    for stream in ("s0", "s1", "s2"):
        entries = await redis.xrange(stream)
        assert [int(fields[b"n"]) for _, fields in entries] == [i for i in range(30) if f"s{i % 3}" == stream]
        assert [entry_id.decode() for entry_id, _ in entries] == [ids[i] for i in range(30) if f"s{i % 3}" == stream]


async def test_appends_made_while_a_pipeline_is_in_flight_go_in_the_next(redis: Redis) -> None:
    sizes = count_pipelines(redis)
    appender = StreamAppender(redis)
    first = asyncio.create_task(appender.add("s", {"n": 0}))
    await asyncio.sleep(0)  # the writer starts with one entry
    rest = [asyncio.create_task(appender.add("s", {"n": i})) for i in range(1, 5)]

    await asyncio.gather(first, *rest)

    assert sum(sizes) == 5 and len(sizes) >= 2
    assert [int(f[b"n"]) for _, f in await redis.xrange("s")] == [0, 1, 2, 3, 4]


async def test_a_failed_write_raises_in_every_append_it_carried_and_the_next_ones_work(redis: Redis) -> None:
    appender = StreamAppender(redis)
    await redis.set("not-a-stream", "x")

    results = await asyncio.gather(appender.add("not-a-stream", {"n": 1}), appender.add("s", {"n": 2}),
                                   return_exceptions=True)

    assert all(isinstance(r, Exception) and "WRONGTYPE" in str(r) for r in results)
    assert await appender.add("s", {"n": 3})


async def test_the_event_log_stores_json_that_reads_back_as_the_value(redis: Redis) -> None:
    log = EventLog(redis)
    value = {"topic": "Gutenberg’s press", "n": 2**70, "nested": [{"score": 0.5, "none": None}]}

    await log.append("r1", "values", value)
    await log.append("r1", "custom", '{"already": "text"}')

    (_, first), (_, second) = await redis.xrange(log_key("r1"))
    assert json.loads(first[b"data"]) == value  # 2**70 is past orjson's integers: json writes it
    assert first[b"event"] == b"values"
    assert json.loads(second[b"data"]) == {"already": "text"}


@pytest.mark.parametrize("value", [{"a": [1, 2.5, True, None, "é"]}, [{"x": {"y": []}}], 3])
async def test_event_data_is_json_text(redis: Redis, value: Any) -> None:
    log = EventLog(redis)
    entry_id = await log.append("r2", "values", value)

    [(stored_id, fields)] = await redis.xrange(log_key("r2"))
    assert stored_id.decode() == entry_id
    assert json.loads(fields[b"data"]) == value
