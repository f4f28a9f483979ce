"""The server's keys of a thread, as retention sees them: its records (the thread's state) and its runs' short-lived
copies (event logs, results, the metrics mark), only those that exist."""

from __future__ import annotations

from redis.asyncio import Redis

from nexa_research.server.event_log import EventLog, ended_key, log_key
from nexa_research.server.records import RecordStore
from nexa_research.server.run_results import result_key, store_result
from nexa_research.server.thread_keys import (
    forget_server_thread,
    server_thread_busy,
    server_thread_keys,
    server_threads,
)


async def test_a_threads_keys_are_its_records_and_its_runs_copies(redis: Redis) -> None:
    store = RecordStore(redis)
    await store.create_thread("t1", {})
    await store.create_thread("other", {})
    for run_id in ("r1", "r2"):
        await store.add_run({"run_id": run_id, "thread_id": "t1", "status": "success", "created_at": run_id})
    await EventLog(redis).append("r1", "values", {})
    await EventLog(redis).end("r1")
    await store_result(redis, "r2", {"report": {}}, ttl_seconds=60)

    state, buffers = await server_thread_keys(redis, "t1")

    assert sorted(state) == sorted([store.thread_key("t1"), store.thread_runs_key("t1"), store.run_key("r1"),
                                    store.run_key("r2")])
    assert sorted(buffers) == sorted([log_key("r1"), ended_key("r1"), result_key("r2")])


async def test_a_thread_no_server_ran_has_no_server_keys(redis: Redis) -> None:
    assert await server_thread_keys(redis, "library-thread") == ([], [])


async def test_busy_threads_and_the_thread_list(redis: Redis) -> None:
    store = RecordStore(redis)
    await store.create_thread("t1", {})
    await store.add_run({"run_id": "r1", "thread_id": "t1", "status": "pending", "created_at": "x"})

    assert await server_thread_busy(redis, "t1")
    await store.update_run("r1", status="success")
    assert not await server_thread_busy(redis, "t1")
    assert list(await server_threads(redis)) == ["t1"]
    await forget_server_thread(redis, "t1")
    assert await server_threads(redis) == {}
