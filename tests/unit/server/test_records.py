"""Thread and run records: what every API process and worker reads, with the indexes the reaper and quotas use."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from nexa_research.server.records import RecordStore, new_id, running_runs_key


@pytest.fixture
def store(redis: Redis) -> RecordStore:
    return RecordStore(redis)


async def test_a_thread_is_created_once_and_a_second_create_returns_the_first(store: RecordStore) -> None:
    thread, created = await store.create_thread("t1", {"topic": "press"}, owner="key-1")
    again, created_again = await store.create_thread("t1", {"topic": "other"}, owner="key-2")

    assert created and not created_again
    assert again == thread == await store.get_thread("t1")
    assert thread["status"] == "idle" and thread["owner"] == "key-1" and thread["metadata"] == {"topic": "press"}


async def test_threads_are_listed_most_recently_updated_first(store: RecordStore) -> None:
    for thread_id in ("t1", "t2", "t3"):
        await store.create_thread(thread_id, {})
    thread = await store.get_thread("t1")
    assert thread is not None
    await store.put_thread({**thread, "status": "busy"})

    assert await store.all_thread_ids() == ["t1", "t3", "t2"]
    assert await store.thread_ids(offset=1, limit=1) == ["t3"]


async def test_new_threads_get_distinct_random_ids(store: RecordStore) -> None:
    (first, _), (second, _) = await store.create_thread(None, {}), await store.create_thread(None, {})

    assert first["thread_id"] != second["thread_id"]
    assert uuid.UUID(new_id()).version == 4


async def test_the_active_index_follows_a_runs_status(store: RecordStore) -> None:
    await store.add_run({"run_id": "r1", "thread_id": "t1", "status": "pending"})
    await store.add_run({"run_id": "r2", "thread_id": "t1", "status": "pending"})
    await store.update_run("r1", status="running")
    assert await store.active_run_ids() == ["r1", "r2"]  # first active first: a status change keeps its place

    await store.update_run("r1", status="success")
    assert await store.active_run_ids() == ["r2"]
    assert [r["status"] for r in await store.runs_of("t1")] == ["success", "pending"]
    assert [r["run_id"] for r in await store.active_runs_of("t1")] == ["r2"]


async def test_a_finished_run_leaves_its_owners_running_count(store: RecordStore, redis: Redis) -> None:
    await redis.zadd(running_runs_key("key-1"), {"r1": 1.0, "r2": 2.0})
    await store.add_run({"run_id": "r1", "thread_id": "t1", "status": "running", "owner": "key-1"})

    await store.update_run("r1", status="error")

    assert await redis.zrange(running_runs_key("key-1"), 0, -1) == [b"r2"]


async def test_update_merges_fields_and_stamps_the_time(store: RecordStore) -> None:
    await store.add_run({"run_id": "r1", "thread_id": "t1", "status": "pending", "kwargs": {"a": 1}})
    before = await store.get_run("r1")

    after = await store.update_run("r1", status="running", attempt=2)

    assert after is not None and before is not None
    assert after == await store.get_run("r1")
    assert after["kwargs"] == {"a": 1} and after["attempt"] == 2 and after["updated_at"] >= before["updated_at"]
    assert await store.update_run("missing", status="running") is None


async def test_deleting_a_thread_deletes_its_runs_everywhere(store: RecordStore) -> None:
    await store.create_thread("t1", {})
    await store.create_thread("t2", {})
    await store.add_run({"run_id": "r1", "thread_id": "t1", "status": "running"})
    await store.add_run({"run_id": "r2", "thread_id": "t1", "status": "success"})
    await store.add_run({"run_id": "r3", "thread_id": "t2", "status": "pending"})

    assert await store.delete_thread("t1") == ["r1", "r2"]

    assert await store.get_thread("t1") is None and await store.all_thread_ids() == ["t2"]
    assert await store.get_run("r1") is None and await store.run_ids("t1") == []
    assert await store.active_run_ids() == ["r3"]


async def test_deleting_a_run_removes_it_from_its_thread_and_the_active_index(store: RecordStore) -> None:
    run = await store.add_run({"run_id": "r1", "thread_id": "t1", "status": "pending"})

    await store.delete_run(run)

    assert await store.get_run("r1") is None
    assert await store.runs_of("t1") == [] and await store.active_run_ids() == []


async def test_the_thread_lock_admits_one_holder_at_a_time(store: RecordStore) -> None:
    first, second = store.thread_lock("t1", timeout=5), store.thread_lock("t1", timeout=0.1)

    assert await first.acquire()
    assert not await second.acquire()  # waits its blocking timeout, then gives up
    await first.release()
    assert await second.acquire()
    await second.release()


async def test_writing_a_record_keeps_the_expiry_retention_gave_it(store: RecordStore, redis: Redis) -> None:
    """A worker's last update of a run (or of its thread) can land after the thread was settled."""
    thread, _ = await store.create_thread("t1", {})
    run = await store.add_run({"run_id": "r1", "thread_id": "t1", "status": "success", "created_at": "x"})
    await redis.expire(store.thread_key("t1"), 500)
    await redis.expire(store.run_key("r1"), 500)

    await store.put_thread({**thread, "error": None})
    await store.update_run("r1", status="success")

    assert 0 < await redis.ttl(store.thread_key("t1")) <= 500
    assert 0 < await redis.ttl(store.run_key(run["run_id"])) <= 500


async def test_threads_whose_record_expired_are_taken_off_the_list(store: RecordStore, redis: Redis) -> None:
    for thread_id in ("gone", "kept", "recent"):
        await store.create_thread(thread_id, {})
    await redis.zadd(store.THREADS, {"gone": 100.0, "kept": 200.0, "recent": 10_000.0})
    await redis.delete(store.thread_key("gone"), store.thread_key("recent"))  # expired

    assert await store.forget_expired_threads(updated_before=1000.0) == (1, 2)
    assert await store.all_thread_ids() == ["recent", "kept"]  # "recent" is looked at once it is old enough
    assert await store.forget_expired_threads(updated_before=1000.0, offset=1) == (0, 0)
