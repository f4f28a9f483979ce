"""Redis commands from many tasks: sent together, each caller getting its own results once they ran, in the order
queued; a failed command is its caller's error, a lost connection every caller's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import fakeredis
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from nexa_research.providers.redis_batcher import CommandBatcher


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    yield client
    await client.aclose()


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


async def test_commands_queued_together_go_in_one_pipeline_each_caller_getting_its_results_in_order(redis: Redis) -> None:
    sizes = count_pipelines(redis)
    batcher = CommandBatcher(redis)

    ids = await asyncio.gather(*(batcher.execute([("XADD", f"s{i % 3}", "*", "n", i), ("INCR", "calls")])
                                 for i in range(30)))

    assert sizes == [60]
    assert [calls for _, calls in ids] == list(range(1, 31))
    for stream in ("s0", "s1", "s2"):
        entries = await redis.xrange(stream)
        mine = [i for i in range(30) if f"s{i % 3}" == stream]
        assert [int(fields[b"n"]) for _, fields in entries] == mine
        assert [entry_id for entry_id, _ in entries] == [ids[i][0] for i in mine]


async def test_commands_queued_while_a_pipeline_is_out_go_in_the_next(redis: Redis) -> None:
    sizes = count_pipelines(redis)
    batcher = CommandBatcher(redis)
    first = asyncio.create_task(batcher.execute([("RPUSH", "l", 0)]))
    await asyncio.sleep(0)  # the writer starts with one command
    rest = [asyncio.create_task(batcher.execute([("RPUSH", "l", i)])) for i in range(1, 5)]

    await asyncio.gather(first, *rest)

    assert sum(sizes) == 5 and len(sizes) >= 2
    assert await redis.lrange("l", 0, -1) == [b"0", b"1", b"2", b"3", b"4"]


async def test_a_failed_command_is_its_callers_error_and_the_others_ran(redis: Redis) -> None:
    batcher = CommandBatcher(redis)
    await redis.set("not-a-list", "x")

    mixed, other = await asyncio.gather(batcher.results([("RPUSH", "not-a-list", 1), ("SET", "k", "v")]),
                                        batcher.execute([("SET", "k2", "v2")]))

    assert isinstance(mixed[0], ResponseError) and mixed[1] is True and other == [True]
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await batcher.execute([("RPUSH", "not-a-list", 1)])
    assert await redis.mget("k", "k2") == [b"v", b"v2"]


async def test_a_lost_connection_fails_every_caller_of_its_batch_and_the_next_batch_runs(redis: Redis) -> None:
    batcher = CommandBatcher(redis)
    make = redis.pipeline

    def broken(*args: Any, **kwargs: Any) -> Any:
        pipe = make(*args, **kwargs)

        async def lost(*a: Any, **k: Any) -> Any:
            raise RedisConnectionError("Connection closed by server.")

        pipe.execute = lost  # type: ignore[method-assign]
        return pipe

    redis.pipeline = broken  # type: ignore[method-assign]
    results = await asyncio.gather(batcher.execute([("SET", "a", 1)]), batcher.execute([("SET", "b", 1)]),
                                   return_exceptions=True)
    assert all(isinstance(r, RedisConnectionError) for r in results)

    redis.pipeline = make  # type: ignore[method-assign]
    assert await batcher.execute([("SET", "c", 1)]) == [True]
