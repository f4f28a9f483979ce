"""Workers as separate processes: a SIGKILLed worker's run is continued by another from its checkpoint, two
workers share the load, a graceful stop hands runs back, and a stream resumes on a different API process.

Each test starts its own API and workers (tests/server_harness.py) and stops them, since all share the
module's Redis and so its queue.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from support.server_harness import RECOVERY_SECONDS, free_port
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}
FAST_SECTIONS = {"Alpha origins", "Beta spread"}


def calls(server_env: dict[str, str]) -> list[dict]:
    path = Path(server_env["NEXA_TEST_CALL_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def start_run_on_one_worker(cluster):
    """The API and one worker up, and a run started on a new thread: (client, thread, run, worker process)."""
    cluster.start_api()
    worker = cluster.start_worker()
    cluster.wait_for_workers(1)
    client = get_client(url=cluster.url)
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    return client, thread, run, worker


async def test_a_killed_workers_run_continues_on_another_worker_from_its_checkpoint(cluster_factory, server_env):
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])
    hold.touch()
    cluster = cluster_factory()
    try:
        client, thread, run, first = await start_run_on_one_worker(cluster)
        wait_until(lambda: {c["section"] for c in calls(server_env) if c["kind"] == "done" and c["pid"] == first.pid}
                   >= FAST_SECTIONS, 60, "the two fast sections to finish on the first worker")
        second = cluster.start_worker()
        cluster.wait_for_workers(2)
        time.sleep(0.5)  # the finished branches' writes are checkpointed ("sync" durability)
        os.kill(first.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        hold.unlink()
        final = await client.runs.join(thread["thread_id"], run["run_id"])
        picked_up_in = time.monotonic() - killed_at
    finally:
        hold.unlink(missing_ok=True)
        cluster.stop()
    assert [s["title"] for s in final["report"]["sections"]] == TITLES
    assert picked_up_in < RECOVERY_SECONDS, f"picked up and finished {picked_up_in:.1f} s after the kill"
    redone = [c for c in calls(server_env) if c["pid"] == second.pid and (c["section"] in FAST_SECTIONS or c.get("role") == "planner")]
    assert redone == [], "finished sections and the plan are not redone"
    assert {c["section"] for c in calls(server_env) if c["pid"] == second.pid and c["kind"] == "done"} == set(TITLES) - FAST_SECTIONS


async def test_two_workers_complete_four_runs_submitted_at_once(cluster_factory, server_env):
    cluster = cluster_factory(NEXA_TEST_SEARCH_DELAY="0.5")
    try:
        cluster.start_api()
        workers = [cluster.start_worker(concurrency=2), cluster.start_worker(concurrency=2)]
        cluster.wait_for_workers(2)
        client = get_client(url=cluster.url)
        runs = [await client.runs.create(None, "nexa_research", input={"topic": TOPIC}, context=QUICK) for _ in range(4)]
        results = [await client.runs.join(r["thread_id"], r["run_id"]) for r in runs]
        statuses = [(await client.runs.get(r["thread_id"], r["run_id"]))["status"] for r in runs]
    finally:
        cluster.stop()
    assert statuses == ["success"] * 4
    assert all([s["title"] for s in r["report"]["sections"]] == TITLES for r in results)
    busy = {c["pid"] for c in calls(server_env) if c["kind"] == "done"}
    assert {w.pid for w in workers} <= busy, "both workers executed runs"


async def test_a_stopped_worker_hands_its_run_to_another(cluster_factory, server_env):
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])
    hold.touch()
    cluster = cluster_factory()
    try:
        client, thread, run, first = await start_run_on_one_worker(cluster)
        wait_until(lambda: any(c["kind"] == "done" and c["pid"] == first.pid for c in calls(server_env)), 60,
                   "a section to finish")
        cluster.start_worker()
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        hold.unlink()
        final = await client.runs.join(thread["thread_id"], run["run_id"])
        run = await client.runs.get(thread["thread_id"], run["run_id"])
    finally:
        hold.unlink(missing_ok=True)
        cluster.stop()
    assert run["status"] == "success" and [s["title"] for s in final["report"]["sections"]] == TITLES


async def test_a_stream_resumes_on_another_api_process(cluster_factory):
    cluster = cluster_factory(NEXA_TEST_SEARCH_DELAY="0.2")
    try:
        cluster.start_api()
        other_url = cluster.start_api(port=free_port())
        cluster.start_worker()
        cluster.wait_for_workers(1)
        client, other = get_client(url=cluster.url), get_client(url=other_url)
        thread = await client.threads.create()
        got = []
        async for part in client.runs.stream(thread["thread_id"], "nexa_research", input={"topic": TOPIC},
                                             context=QUICK, stream_mode=["updates", "custom"], stream_resumable=True):
            got.append(part)
            if len(got) == 4:
                break
        run_id = got[0].data["run_id"]
        got += [p async for p in other.runs.join_stream(thread["thread_id"], run_id, last_event_id=got[-1].id,
                                                        stream_mode=["updates", "custom"])]
        everything = [p async for p in other.runs.join_stream(thread["thread_id"], run_id, stream_mode=["updates", "custom"])]
    finally:
        cluster.stop()
    assert [p.id for p in got] == [p.id for p in everything], "the resumed stream has every event once, in order"
    assert got[-1].event == "updates" and "store_report" in got[-1].data


async def test_a_stream_quiet_for_longer_than_a_socket_timeout_stays_open(cluster_factory, server_env):
    """Heartbeats every 7 s (redis-py's default socket timeout is 5 s): the blocking read must not time out."""
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])
    cluster = cluster_factory(NEXA_SERVER_HEARTBEAT_SECONDS="7")
    try:
        cluster.start_api()
        cluster.start_worker()
        cluster.wait_for_workers(1)
        client = get_client(url=cluster.url)
        thread = await client.threads.create()
        hold.touch()

        async def release_after_quiet() -> None:
            await asyncio.sleep(12)  # the fast sections are done within a second; then 11 s without an event
            hold.unlink()

        release = asyncio.create_task(release_after_quiet())
        parts = [p async for p in client.runs.stream(thread["thread_id"], "nexa_research", input={"topic": TOPIC},
                                                     context=QUICK, stream_mode="updates")]
        await release
        api_log = "".join(p.read_text() for p in cluster.logs.glob("api-*.log"))
    finally:
        hold.unlink(missing_ok=True)
        cluster.stop()
    assert not [p for p in parts if p.event == "error"]
    assert parts[-1].event == "updates" and "store_report" in parts[-1].data
    assert "Traceback" not in api_log
