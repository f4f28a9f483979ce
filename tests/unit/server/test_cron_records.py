"""Cron records and the claim that makes a due time give one run, however many schedulers look at it."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from nexa_research.server.cron_records import DUE, CronStore


@pytest.fixture
def store(redis: Redis) -> CronStore:
    return CronStore(redis)


def record(cron_id: str, thread_id: str | None = None) -> dict[str, object]:
    return {"cron_id": cron_id, "thread_id": thread_id, "schedule": "* * * * *", "owner": "k1", "metadata": {}}


async def test_of_many_claims_on_one_due_time_exactly_one_wins(store: CronStore) -> None:
    await store.add(record("c1"), due=100)

    wins = await asyncio.gather(*[CronStore(store.redis).claim("c1", 100, 160) for _ in range(20)])

    assert wins.count(True) == 1
    assert await store.due(now=150) == [] and await store.due(now=160) == [("c1", 160)]


async def test_a_claim_on_a_stale_due_time_or_a_deleted_cron_fails(store: CronStore) -> None:
    await store.add(record("c1"), due=100)
    await store.put(record("c1"), due=130, reschedule=True)  # rescheduled after the scheduler read 100
    assert not await store.claim("c1", 100, 160)
    assert await store.claim("c1", 130, None)  # its last time: out of the due set
    assert await store.due(now=10**10) == []
    await store.add(record("c2"), due=100)
    assert await store.delete("c2")
    assert not await store.claim("c2", 100, 160)
    assert not await store.delete("c2")


async def test_only_due_crons_are_listed_earliest_first(store: CronStore) -> None:
    for cron_id, due in (("late", 300), ("early", 100), ("never", None)):
        await store.add(record(cron_id), due=due)

    assert await store.due(now=300) == [("early", 100), ("late", 300)]
    dates = await store.next_run_dates(["early", "never"])
    assert dates == {"early": "1970-01-01T00:01:40+00:00", "never": None}


async def test_writing_a_deleted_cron_does_not_bring_it_back(store: CronStore, redis: Redis) -> None:
    await store.add(record("c1"), due=100)
    await store.delete("c1")

    await store.put(record("c1"), due=200, reschedule=True)

    assert await store.get("c1") is None and await redis.zscore(DUE, "c1") is None


async def test_deleting_a_thread_deletes_its_crons_only(store: CronStore) -> None:
    await store.add(record("a", "t1"), due=100)
    await store.add(record("b", "t1"), due=100)
    await store.add(record("c", "t2"), due=100)

    assert await store.delete_for_thread("t1") == 2

    assert [c["cron_id"] for c in await store.all()] == ["c"]
    assert await store.due(now=100) == [("c", 100)]


async def test_a_thread_to_delete_is_taken_by_one_process(store: CronStore) -> None:
    await store.delete_after_run("t1")
    assert await store.threads_to_delete() == ["t1"]
    taken = await asyncio.gather(store.take_thread_to_delete("t1"), store.take_thread_to_delete("t1"))
    assert sorted(taken) == [False, True] and await store.threads_to_delete() == []
