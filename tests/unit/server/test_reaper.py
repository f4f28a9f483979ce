"""The reaper: an active run that no worker holds and no message waits for is queued again, once across all
workers; a message lost with the worker that received it is delivered again, once.

A `running` run without a lease lost its worker; a `pending` run no worker took within `pending_rekick_seconds`
may have lost its message. Either is queued again, and a worker that takes it continues from its checkpoint. A
run whose message still waits behind a backlog is not: a copy would wait behind the same backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

from nexa_research.server.job_queue import GROUP, QUEUE, enqueue_run, runs_waiting
from nexa_research.server.lease import RunLease
from nexa_research.server.reaper import WORKERS, Reaper, live_workers
from nexa_research.server.records import RecordStore
from nexa_research.server.settings import ServerSettings
from support.queue_messages import queued_run_ids, receive

SETTINGS = ServerSettings(recovery_seconds=60, pending_rekick_seconds=600)


@pytest.fixture
def store(redis: Redis) -> RecordStore:
    return RecordStore(redis)


@pytest.fixture
def reaper_for(redis: Redis, store: RecordStore, broker_for: Callable[[str], RedisStreamBroker]):
    return lambda worker_id: Reaper(redis, store, broker_for(worker_id), worker_id, SETTINGS)


async def put_run(store: RecordStore, run_id: str, status: str, age_seconds: float = 0) -> None:
    """A run record as the API and workers write it, last updated `age_seconds` ago."""
    await store.add_run({"run_id": run_id, "thread_id": "t1", "status": status})
    if age_seconds:
        run = await store.get_run(run_id)
        assert run is not None
        run["updated_at"] = (datetime.now(UTC) - timedelta(seconds=age_seconds)).isoformat()
        await store.redis.set(store.run_key(run_id), json.dumps(run))


async def deliver_all(redis: Redis) -> None:
    """A worker read every queued message and acknowledged it (then died, in these tests: no lease is left)."""
    await redis.xgroup_create(QUEUE, GROUP, id="0", mkstream=True)
    for _, messages in await redis.xreadgroup(GROUP, "gone-worker", {QUEUE: ">"}) or []:
        for message_id, _ in messages:
            await redis.xack(QUEUE, GROUP, message_id)


async def test_a_running_run_without_a_lease_is_queued_again(redis: Redis, store: RecordStore, reaper_for) -> None:
    await put_run(store, "r1", "running")

    assert await reaper_for("w1").sweep() == ["r1"]
    assert await queued_run_ids(redis) == ["r1"]


async def test_a_run_a_worker_holds_is_left_alone(redis: Redis, store: RecordStore, reaper_for) -> None:
    await put_run(store, "r1", "running")
    await RunLease(redis, "r1", "w2", SETTINGS.lease_ttl_seconds).acquire()

    assert await reaper_for("w1").sweep() == []
    assert await queued_run_ids(redis) == []


async def test_of_several_workers_sweeping_in_one_period_one_queues_the_run(
    redis: Redis, store: RecordStore, reaper_for
) -> None:
    await put_run(store, "r1", "running")

    swept = [await reaper_for(worker).sweep() for worker in ("w1", "w2", "w1")]

    assert swept == [["r1"], [], []]
    assert await queued_run_ids(redis) == ["r1"]


async def test_a_run_whose_message_was_taken_by_a_dead_worker_is_queued_again_next_period(
    redis: Redis, store: RecordStore, reaper_for
) -> None:
    await put_run(store, "r1", "running")
    reaper = reaper_for("w1")
    assert await reaper.sweep() == ["r1"]
    await deliver_all(redis)

    assert await reaper.sweep() == ["r1"]
    assert await queued_run_ids(redis) == ["r1", "r1"]


async def receive_and_die(redis: Redis, idle_ms: int) -> bytes:
    """A worker read the queue's next message and died before acknowledging it, `idle_ms` ago."""
    await redis.xgroup_create(QUEUE, GROUP, id="0", mkstream=True)
    [[_, [(message_id, _)]]] = await redis.xreadgroup(GROUP, "gone-worker", {QUEUE: ">"}, count=1)
    await redis.xclaim(QUEUE, GROUP, "gone-worker", 0, [message_id], idle=idle_ms, justid=True)
    return message_id


@pytest.mark.parametrize("status", ["running", "pending"])
async def test_a_message_lost_with_the_worker_that_received_it_is_delivered_again_once(
    redis: Redis, store: RecordStore, reaper_for, broker_for, status: str
) -> None:
    await put_run(store, "r1", status)
    await enqueue_run(broker_for("api"), "r1")
    lost = await receive_and_die(redis, idle_ms=int(SETTINGS.lease_ttl_seconds * 1000) + 1000)

    swept = await asyncio.gather(*(reaper_for(worker).sweep() for worker in ("w1", "w2", "w3")))

    assert sorted(swept) == [[], [], ["r1"]]
    assert await queued_run_ids(redis) == ["r1", "r1"]  # the lost one (acknowledged now) and its one re-delivery
    assert await redis.xpending_range(QUEUE, GROUP, min="-", max="+", count=10) == []
    assert await runs_waiting(redis) == 1
    worker = broker_for("w1")
    await worker.startup()
    received = await receive(worker)
    assert received is not None and received["args"] == ["r1"]
    assert await runs_waiting(redis) == 0
    assert [m for m, _ in await redis.xrange(QUEUE)][0] == lost


async def test_a_message_a_worker_is_receiving_is_not_delivered_again(
    redis: Redis, store: RecordStore, reaper_for, broker_for
) -> None:
    """Received, not yet acknowledged, for less than a lease TTL: its worker is alive and about to take it."""
    await put_run(store, "r1", "running")
    await enqueue_run(broker_for("api"), "r1")
    await receive_and_die(redis, idle_ms=0)

    assert await reaper_for("w1").sweep() == []
    assert await queued_run_ids(redis) == ["r1"]


async def test_a_lost_message_of_a_finished_run_is_dropped_and_no_longer_counts_as_waiting(
    redis: Redis, store: RecordStore, reaper_for, broker_for
) -> None:
    await put_run(store, "r1", "success")
    await enqueue_run(broker_for("api"), "r1")
    await receive_and_die(redis, idle_ms=int(SETTINGS.lease_ttl_seconds * 1000) + 1000)

    assert await reaper_for("w1").sweep() == []
    assert await queued_run_ids(redis) == ["r1"]
    assert await redis.xpending_range(QUEUE, GROUP, min="-", max="+", count=10) == []
    assert await runs_waiting(redis) == 0


async def test_a_pending_run_is_queued_again_only_after_pending_rekick_seconds(
    redis: Redis, store: RecordStore, reaper_for
) -> None:
    await put_run(store, "fresh", "pending", age_seconds=SETTINGS.pending_rekick_seconds - 60)
    await put_run(store, "stale", "pending", age_seconds=SETTINGS.pending_rekick_seconds + 60)

    assert await reaper_for("w1").sweep() == ["stale"]
    assert await queued_run_ids(redis) == ["stale"]


async def test_finished_and_deleted_runs_are_never_queued(redis: Redis, store: RecordStore, reaper_for) -> None:
    for run_id, status in (("done", "success"), ("failed", "error"), ("stopped", "interrupted")):
        await put_run(store, run_id, status)
    await put_run(store, "deleted", "running")
    await redis.delete(store.run_key("deleted"))  # its record is gone, its id still in the active index

    assert await reaper_for("w1").sweep() == []
    assert await queued_run_ids(redis) == []


@pytest.mark.parametrize(("status", "age_seconds"), [("running", 0), ("pending", SETTINGS.pending_rekick_seconds + 60)])
async def test_a_run_whose_message_is_still_waiting_in_the_queue_is_not_queued_again(
    redis: Redis, store: RecordStore, reaper_for, broker_for, status: str, age_seconds: float
) -> None:
    """A worker handed the run back (or the API queued it) while every worker's slots were full: its message
    waits, unread, behind the backlog. Queuing it again adds a copy and delivers it no sooner."""
    await put_run(store, "r1", status, age_seconds=age_seconds)
    await enqueue_run(broker_for("api"), "r1")

    for worker in ("w1", "w2", "w1"):  # one sweep per period, across workers, for as long as the backlog lasts
        assert await reaper_for(worker).sweep() == []

    assert await queued_run_ids(redis) == ["r1"]
    assert await runs_waiting(redis) == 1


async def test_each_worker_reports_itself_alive_with_its_running_runs_until_it_is_forgotten(
    redis: Redis, reaper_for
) -> None:
    reaper = reaper_for("w1")
    loop = asyncio.create_task(reaper.loop(running=lambda: 3))
    try:
        for _ in range(100):
            if await redis.hexists(WORKERS, "w1"):
                break
            await asyncio.sleep(0.01)
        assert await live_workers(redis, within_seconds=60) == {"w1": 3}
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop

    await redis.hset(WORKERS, "w-stale", f"{time.time() - 120}:1")
    assert await live_workers(redis, within_seconds=60) == {"w1": 3}
    await reaper.forget()
    assert await live_workers(redis, within_seconds=60) == {}
