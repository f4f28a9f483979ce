"""The job queue: "execute run R" messages on a Redis stream, each delivered to one worker, one at a time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

from nexa_research.server.job_queue import EXECUTE_RUN, GROUP, QUEUE, enqueue_run, runs_waiting, trim_delivered
from support.queue_messages import queued_run_ids, receive


async def test_a_run_is_queued_as_one_message_naming_the_task_and_the_run(
    redis: Redis, broker_for: Callable[[str], RedisStreamBroker]
) -> None:
    await enqueue_run(broker_for("api"), "r1")

    assert await queued_run_ids(redis) == ["r1"]
    [(_, fields)] = await redis.xrange(QUEUE)
    assert json.loads(fields[b"data"])["task_name"] == EXECUTE_RUN


async def test_a_message_queued_before_any_worker_started_is_still_delivered(
    broker_for: Callable[[str], RedisStreamBroker],
) -> None:
    await enqueue_run(broker_for("api"), "r1")
    worker = broker_for("w1")
    await worker.startup()  # creates the consumer group after the message was queued

    received = await receive(worker)

    assert received is not None and received["args"] == ["r1"]


async def test_each_message_goes_to_one_worker_and_a_worker_takes_one_at_a_time(
    redis: Redis, broker_for: Callable[[str], RedisStreamBroker]
) -> None:
    first, second = broker_for("w1"), broker_for("w2")
    await first.startup()
    await second.startup()
    await enqueue_run(broker_for("api"), "r1")
    await enqueue_run(broker_for("api"), "r2")

    taken_first = await receive(first)
    [group] = await redis.xinfo_groups(QUEUE)
    assert group["name"].decode() == GROUP and group["lag"] == 1  # r2 still waits for any worker
    taken_second = await receive(second)

    assert taken_first is not None and taken_second is not None
    assert [taken_first["args"], taken_second["args"]] == [["r1"], ["r2"]]
    assert await asyncio.gather(receive(first, wait=1.5), receive(second, wait=1.5)) == [None, None]



async def test_a_run_waiting_in_the_queue_is_not_queued_again(
    redis: Redis, broker_for: Callable[[str], RedisStreamBroker]
) -> None:
    """The API, a worker handing runs back and every reaper may ask; the backlog holds one message per run."""
    added = [await enqueue_run(broker_for(name), run) for name, run in (("api", "r1"), ("w1", "r1"), ("w2", "r2"), ("w1", "r1"))]

    assert added == [True, False, True, False]
    assert await queued_run_ids(redis) == ["r1", "r2"]
    assert await runs_waiting(redis) == 2


async def test_once_a_worker_took_a_runs_message_the_run_may_be_queued_again(
    redis: Redis, broker_for: Callable[[str], RedisStreamBroker]
) -> None:
    """A worker that hands a run back (or dies with it) queues it anew: its first message is no longer live."""
    worker = broker_for("w1")
    await worker.startup()
    await enqueue_run(broker_for("api"), "r1")
    await enqueue_run(broker_for("api"), "r2")

    received = await receive(worker)

    assert received is not None and received["args"] == ["r1"]
    assert await runs_waiting(redis) == 1  # r2
    assert await enqueue_run(broker_for("w1"), "r1") is True
    assert await queued_run_ids(redis) == ["r1", "r2", "r1"]


async def test_delivered_messages_are_trimmed_and_live_ones_kept(
    redis: Redis, broker_for: Callable[[str], RedisStreamBroker]
) -> None:
    """A worker received r1 and r2 (r1 acknowledged, r2 not yet: its worker may have died); r3 still waits."""
    worker = broker_for("w1")
    await worker.startup()
    for run_id in ("r1", "r2", "r3"):
        await enqueue_run(broker_for("api"), run_id)
    assert await receive(worker) is not None  # r1, acknowledged
    await redis.xreadgroup(GROUP, "w2", {QUEUE: ">"}, count=1)  # r2, received and not acknowledged

    assert await trim_delivered(redis) == 1
    assert await queued_run_ids(redis) == ["r2", "r3"]
    assert await trim_delivered(redis) == 0


async def test_a_queue_no_worker_read_is_not_trimmed(redis: Redis, broker_for: Callable[[str], RedisStreamBroker]) -> None:
    await enqueue_run(broker_for("api"), "r1")

    assert await trim_delivered(redis) == 0
    assert await queued_run_ids(redis) == ["r1"]
