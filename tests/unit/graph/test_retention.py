"""Retention decisions: which threads are finished, which keys get an expiry, which lose one, and what stays noted.

Against fakeredis with a stand-in for the saver's key lookup (its search indexes are Redis Stack's; the
integration tests run the real saver). A finished thread's state keys expire after the retention time and its
short-lived copies never live longer than they would have; an unfinished thread's keys lose any expiry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import fakeredis
import pytest
from langgraph.types import Interrupt, StateSnapshot
from redis.asyncio import Redis

from nexa_research.retention import SETTLE, ThreadRetention, thread_finished

DAY = 86_400


def snapshot(values: dict[str, Any], next_nodes: tuple[str, ...] = (), interrupts: tuple[Any, ...] = ()) -> StateSnapshot:
    return StateSnapshot(values, next_nodes, {"configurable": {"thread_id": "t"}}, None, None, None, (), interrupts)


DONE = snapshot({"topic": "press", "report": {"title": "Press"}})
WAITING_FOR_REVIEW = snapshot({"topic": "press"}, ("review_plan",), (Interrupt(value={"plan": []}, id="i1"),))
FAILED_MID_WAY = snapshot({"topic": "press"}, ("research_paragraph",))
NEVER_CHECKPOINTED = snapshot({})


class Saver:
    """The saver's key lookup: checkpoint keys are those named `checkpoint:<thread>:...` in the test's Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def athread_keys(self, thread_id: str) -> list[str]:
        return sorted(k.decode() for k in await self.redis.keys(f"checkpoint:{thread_id}:*"))


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    yield client
    await client.aclose()


def retention(redis: Redis, states: dict[str, StateSnapshot], seconds: float = DAY) -> ThreadRetention:
    async def state_of(thread_id: str) -> StateSnapshot | None:
        return states.get(thread_id)

    return ThreadRetention(redis, Saver(redis), seconds, state_of)  # type: ignore[arg-type]


async def server_thread(redis: Redis, thread_id: str, run_id: str, events_ttl: int | None = None) -> None:
    """A thread the server ran once: its records, its run's event log (with the expiry the worker gives it)."""
    await redis.set(f"nexa:srv:thread:{thread_id}", "{}")
    await redis.zadd(f"nexa:srv:thread:{thread_id}:runs", {run_id: 1})
    await redis.set(f"nexa:srv:run:{run_id}", "{}")
    await redis.xadd(f"nexa:srv:run:{run_id}:events", {"event": "values", "data": "{}"})
    if events_ttl is not None:
        await redis.expire(f"nexa:srv:run:{run_id}:events", events_ttl)


async def checkpoints(redis: Redis, thread_id: str, ttl: int | None = None) -> None:
    for key in (f"checkpoint:{thread_id}:__empty__:1", f"checkpoint:{thread_id}:research:2"):
        await redis.set(key, "{}", ex=ttl)


@pytest.mark.parametrize(
    ("state", "finished"),
    [(DONE, True), (NEVER_CHECKPOINTED, True), (None, True), (WAITING_FOR_REVIEW, False), (FAILED_MID_WAY, False)],
    ids=["report-done", "no-checkpoint", "no-checkpointer", "waiting-for-plan-review", "failed-or-cancelled-mid-way"],
)
def test_a_thread_is_finished_only_when_nothing_is_left_to_do(state: StateSnapshot | None, finished: bool) -> None:
    assert thread_finished(state) is finished


async def test_a_finished_threads_checkpoints_and_records_expire_after_the_retention_time(redis: Redis) -> None:
    await checkpoints(redis, "t1")
    await server_thread(redis, "t1", "r1")

    assert await retention(redis, {"t1": DONE}, seconds=30 * DAY).settle("t1") == "expiring"

    state = ["checkpoint:t1:__empty__:1", "checkpoint:t1:research:2", "nexa:srv:thread:t1",
             "nexa:srv:thread:t1:runs", "nexa:srv:run:r1"]
    assert {key: await redis.ttl(key) for key in state} == dict.fromkeys(state, 30 * DAY)
    assert await redis.ttl("nexa:srv:run:r1:events") == 30 * DAY  # it had no expiry yet (its run just ended)


async def test_retention_only_shortens_the_life_of_a_runs_event_log(redis: Redis) -> None:
    await checkpoints(redis, "t1")
    await server_thread(redis, "t1", "r1", events_ttl=3600)
    await server_thread(redis, "t2", "r2", events_ttl=3600)
    await checkpoints(redis, "t2")

    await retention(redis, {"t1": DONE}, seconds=30 * DAY).settle("t1")
    await retention(redis, {"t2": DONE}, seconds=60).settle("t2")

    assert await redis.ttl("nexa:srv:run:r1:events") == 3600  # kept an hour for reconnects, not 30 days
    assert await redis.ttl("nexa:srv:run:r2:events") == 60


@pytest.mark.parametrize("state", [WAITING_FOR_REVIEW, FAILED_MID_WAY], ids=["waiting-for-review", "failed-mid-way"])
async def test_an_unfinished_thread_loses_any_expiry_it_had(redis: Redis, state: StateSnapshot) -> None:
    await checkpoints(redis, "t1", ttl=100)  # finished once, then a new run paused or failed on it
    await server_thread(redis, "t1", "r1")
    await redis.expire("nexa:srv:thread:t1", 100)

    assert await retention(redis, {"t1": state}).settle("t1") == "kept"

    assert await redis.ttl("checkpoint:t1:__empty__:1") == -1
    assert await redis.ttl("checkpoint:t1:research:2") == -1
    assert await redis.ttl("nexa:srv:thread:t1") == -1


async def test_a_retention_of_zero_keeps_finished_threads_forever(redis: Redis) -> None:
    await checkpoints(redis, "t1", ttl=100)

    assert await retention(redis, {"t1": DONE}, seconds=0).settle("t1") == "kept"
    assert await redis.ttl("checkpoint:t1:__empty__:1") == -1


async def test_a_thread_with_no_keys_left_is_gone(redis: Redis) -> None:
    assert await retention(redis, {}).settle("t1") == "gone"


async def test_a_root_checkpoint_notes_its_thread_and_keeps_a_thread_that_was_expiring(redis: Redis) -> None:
    await checkpoints(redis, "expiring", ttl=100)
    await checkpoints(redis, "kept")
    keeper = retention(redis, {})

    await keeper.touch("expiring", "checkpoint:expiring:__empty__:1")
    await keeper.touch("kept", "checkpoint:kept:__empty__:1")
    await keeper.touch("new", None)

    assert await redis.ttl("checkpoint:expiring:__empty__:1") == -1
    assert await redis.ttl("checkpoint:expiring:research:2") == -1
    assert sorted(k.decode() for k in await redis.zrange(SETTLE, 0, -1)) == ["expiring", "kept", "new"]


async def test_noted_threads_are_settled_except_busy_ones_and_ones_noted_again_meanwhile(redis: Redis) -> None:
    for thread_id in ("done", "busy", "rerun"):
        await checkpoints(redis, thread_id)
    states = {"done": DONE, "busy": FAILED_MID_WAY, "rerun": DONE}
    keeper = retention(redis, states)
    for thread_id in states:
        await keeper.touch(thread_id, None)

    async def state_of(thread_id: str) -> StateSnapshot | None:
        if thread_id == "rerun":  # a new run writes its first checkpoint while the sweep settles the thread
            await keeper.touch("rerun", None)
        return states[thread_id]

    keeper.state_of = state_of

    async def busy(thread_id: str) -> bool:
        return thread_id == "busy"

    counts = await keeper.settle_noted(busy=busy)

    assert counts == {"expiring": 2, "busy": 1}
    assert sorted(k.decode() for k in await redis.zrange(SETTLE, 0, -1)) == ["busy", "rerun"]
    assert await redis.ttl("checkpoint:busy:__empty__:1") == -1
