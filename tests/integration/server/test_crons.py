"""Crons driven by langgraph_sdk, unchanged, against uvicorn, a real worker and a Redis Stack.

Schedules name seconds (croniter reads a sixth field as seconds), and the API processes look for due crons every
0.2 s, so a cron fires within a second of its time. A schedule of `* * * * * S1,S2` with an end time just after
S2 fires exactly at S1 and S2: how many runs a due time gives is counted, not guessed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError, PermissionDeniedError, UnprocessableEntityError
from redis.asyncio import Redis

from nexa_research.server.assistant_records import AssistantStore
from support.server_harness import Cluster, auth_headers, free_port, make_key
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}
FAR = "0 9 * * 1"  # Mondays at 9: never during a test


@pytest.fixture(scope="module")
def cron_server(cluster_factory) -> Cluster:
    cluster = cluster_factory(NEXA_SERVER_CRON_SECONDS="0.2")
    cluster.start_api()
    cluster.start_worker()
    cluster.wait_for_workers(1)
    return cluster


def seconds_ahead(*offsets: int) -> tuple[str, datetime]:
    """A schedule firing at the given seconds from now (at least 2 s away) and an end time 1 s after the last."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    times = [start + timedelta(seconds=o) for o in offsets]
    return "* * * * * " + ",".join(str(t.second) for t in times), times[-1] + timedelta(seconds=1)


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


async def cron_threads(client: Any, cron_id: str) -> list[dict[str, Any]]:
    return await client.threads.search(metadata={"cron_id": cron_id}, limit=100)


async def finished_runs(client: Any, thread_id: str, count: int) -> list[dict[str, Any]]:
    runs = await client.runs.list(thread_id, limit=100)
    return runs if len(runs) == count and all(r["status"] == "success" for r in runs) else []


async def test_a_thread_cron_runs_on_its_thread_at_each_due_time_until_its_end(cron_server):
    client = get_client(url=cron_server.url)
    thread = await client.threads.create()
    schedule, end = seconds_ahead(0, 5)
    cron = await client.crons.create_for_thread(
        thread["thread_id"], "nexa_research", schedule=schedule, end_time=end, input={"topic": TOPIC},
        context=QUICK, metadata={"report": "weekly"})
    assert cron["thread_id"] == thread["thread_id"] and cron["schedule"] == schedule and cron["enabled"] is True
    assert cron["payload"]["input"] == {"topic": TOPIC} and cron["on_run_completed"] is None
    assert datetime.fromisoformat(cron["next_run_date"]) < end

    runs = await until(lambda: finished_runs(client, thread["thread_id"], 2), what="two runs on the thread")
    assert all(r["metadata"]["cron_id"] == cron["cron_id"] and r["metadata"]["report"] == "weekly" for r in runs)
    assert all(r["kwargs"]["context"]["use_cache"] is False for r in runs), "each due time researches again"
    state = await client.threads.get_state(thread["thread_id"])
    assert [s["title"] for s in state["values"]["report"]["sections"]] == TITLES
    await asyncio.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 2)
    assert len(await client.runs.list(thread["thread_id"])) == 2, "the end time stops it"
    [listed] = await client.crons.search(thread_id=thread["thread_id"])
    assert listed["cron_id"] == cron["cron_id"] and listed["next_run_date"] is None


async def test_a_stateless_cron_makes_a_thread_per_run_and_deletes_it_after_the_run(cron_server):
    client = get_client(url=cron_server.url)
    schedule, end = seconds_ahead(0)
    cron = await client.crons.create("nexa_research", schedule=schedule, end_time=end, input={"topic": TOPIC},
                                     context=QUICK)
    assert cron["thread_id"] is None and cron["on_run_completed"] == "delete"
    [thread] = await until(lambda: cron_threads(client, cron["cron_id"]), what="the run's thread")
    await until(lambda: _gone(client, thread["thread_id"]), what="the thread deleted after its run")


async def _gone(client: Any, thread_id: str) -> bool:
    try:
        await client.threads.get(thread_id)
    except NotFoundError:
        return True
    return False


async def test_a_kept_stateless_run_has_its_report_and_a_deleted_cron_fires_no_more(cron_server):
    client = get_client(url=cron_server.url)
    cron = await client.crons.create("nexa_research", schedule="* * * * * */2", input={"topic": TOPIC},
                                     context=QUICK, on_run_completed="keep")
    [thread, *_] = await until(lambda: cron_threads(client, cron["cron_id"]), what="a first run")
    await client.crons.delete(cron["cron_id"])
    made = len(await cron_threads(client, cron["cron_id"]))
    joined = await client.runs.join(thread["thread_id"], (await client.runs.list(thread["thread_id"]))[0]["run_id"])
    assert [s["title"] for s in joined["report"]["sections"]] == TITLES
    await asyncio.sleep(4)
    assert len(await cron_threads(client, cron["cron_id"])) == made
    assert await client.crons.search(metadata={"never": "set"}) == []
    assert cron["cron_id"] not in [c["cron_id"] for c in await client.crons.search(limit=1000)]
    with pytest.raises(NotFoundError):
        await client.crons.delete(cron["cron_id"])


async def test_search_count_and_update(cron_server):
    client = get_client(url=cron_server.url)
    thread = await client.threads.create()
    tag = {"suite": f"search-{time.time_ns()}"}
    first = await client.crons.create("nexa_research", schedule=FAR, input={"topic": TOPIC}, metadata=tag)
    second = await client.crons.create_for_thread(thread["thread_id"], "nexa_research", schedule=FAR,
                                                  input={"topic": TOPIC}, metadata={**tag, "n": 2})
    assert await client.crons.count(metadata=tag) == 2
    assert await client.crons.count(thread_id=thread["thread_id"]) == 1
    assert await client.crons.count(assistant_id=first["assistant_id"], metadata=tag) == 2  # the graph name's id
    found = await client.crons.search(metadata=tag, sort_by="created_at", sort_order="asc", select=["cron_id"])
    assert found == [{"cron_id": first["cron_id"]}, {"cron_id": second["cron_id"]}]
    assert [c["cron_id"] for c in await client.crons.search(metadata=tag, limit=1, offset=1)] == [first["cron_id"]]

    changed = await client.crons.update(second["cron_id"], schedule="0 10 * * 2", metadata={"n": 3},
                                        context={"max_sections": 3})
    assert changed["schedule"] == "0 10 * * 2" and changed["metadata"] == {**tag, "n": 3}
    assert changed["payload"]["context"] == {"max_sections": 3}
    assert datetime.fromisoformat(changed["next_run_date"]).weekday() == 1
    paused = await client.crons.update(second["cron_id"], enabled=False)
    assert paused["enabled"] is False and paused["next_run_date"] is None
    resumed = await client.crons.update(second["cron_id"], enabled=True, end_time=None)
    assert resumed["next_run_date"] is not None and resumed["end_time"] is None
    with pytest.raises(UnprocessableEntityError, match="schedule"):
        await client.crons.update(second["cron_id"], schedule="not a schedule")


async def test_bad_crons_are_refused_naming_the_field(cron_server, server_env):
    client = get_client(url=cron_server.url)
    cases = [({"schedule": "every monday"}, UnprocessableEntityError, "schedule"),
             ({"schedule": FAR, "timezone": "Mars/Olympus"}, UnprocessableEntityError, "timezone"),
             ({"schedule": FAR, "context": {"max_sections": 99}}, UnprocessableEntityError, "max_sections"),
             ({"schedule": FAR, "context": {"colour": "red"}}, UnprocessableEntityError, "colour"),
             ({"schedule": FAR, "webhook": "https://example.com/hook"}, UnprocessableEntityError, "webhook"),
             ({"schedule": FAR, "multitask_strategy": "rollback"}, UnprocessableEntityError, "multitask_strategy")]
    for fields, error, field in cases:
        with pytest.raises(error, match=field):
            await client.crons.create("nexa_research", input={"topic": TOPIC}, **fields)
    with pytest.raises(UnprocessableEntityError, match="input"):
        await client.crons.create("nexa_research", schedule=FAR)
    with pytest.raises(NotFoundError):
        await client.crons.create("another_graph", schedule=FAR, input={"topic": TOPIC})
    with pytest.raises(NotFoundError):
        await client.crons.create_for_thread("no-such-thread", "nexa_research", schedule=FAR, input={"topic": TOPIC})

    with pytest.raises(NotFoundError, match="assistant"):  # a stored assistant this key does not have
        await client.crons.create("0b6a7f4e-3c1d-4e2a-9f8b-5d4c3b2a1f0f", schedule=FAR, input={"topic": TOPIC})

    free_key = make_key(server_env["REDIS_URL"], "free-user", tier="free")
    free = get_client(url=cron_server.url, api_key=free_key)
    with pytest.raises(PermissionDeniedError, match="max_sections"):
        await free.crons.create("nexa_research", schedule=FAR, input={"topic": TOPIC}, context={"max_sections": 7})
    # an assistant stored while the key's tier allowed it: a cron on it is held to the tier when it is made
    redis = Redis.from_url(server_env["REDIS_URL"])
    try:
        seven, _ = await AssistantStore(redis, free_key.split("_")[1]).create(
            "0b6a7f4e-3c1d-4e2a-9f8b-5d4c3b2a1f0e", "nexa_research", {}, {"max_sections": 7}, {}, "seven", None)
    finally:
        await redis.aclose()
    with pytest.raises(PermissionDeniedError, match="max_sections"):
        await free.crons.create(seven["assistant_id"], schedule=FAR, input={"topic": TOPIC})
    fits = await free.crons.create(seven["assistant_id"], schedule=FAR, input={"topic": TOPIC},
                                   context={"max_sections": 5})
    await free.crons.delete(fits["cron_id"])
    mine = await client.crons.create("nexa_research", schedule=FAR, input={"topic": TOPIC})
    assert mine["cron_id"] not in [c["cron_id"] for c in await free.crons.search(limit=1000)]
    with pytest.raises(NotFoundError):
        await free.crons.delete(mine["cron_id"])
    got = httpx.get(f"{cron_server.url}/runs/crons/{mine['cron_id']}", headers=auth_headers())
    assert got.status_code == 200 and got.json()["user_id"] == "tests"


async def test_deleting_a_thread_deletes_its_crons(cron_server):
    client = get_client(url=cron_server.url)
    thread = await client.threads.create()
    cron = await client.crons.create_for_thread(thread["thread_id"], "nexa_research", schedule=FAR,
                                                input={"topic": TOPIC})
    await client.threads.delete(thread["thread_id"])
    assert await client.crons.count(thread_id=thread["thread_id"]) == 0
    got = httpx.get(f"{cron_server.url}/runs/crons/{cron['cron_id']}", headers=auth_headers())
    assert got.status_code == 404


async def test_a_cron_runs_as_its_key_and_counts_against_its_day(cron_server, server_env):
    client = get_client(url=cron_server.url, api_key=make_key(server_env["REDIS_URL"], "one-a-day", daily_quota=1))
    schedule, end = seconds_ahead(0, 2)
    cron = await client.crons.create("nexa_research", schedule=schedule, end_time=end, input={"topic": TOPIC},
                                     context=QUICK, on_run_completed="keep")
    await asyncio.sleep((end - datetime.now(UTC)).total_seconds() + 2)
    runs = [r for t in await cron_threads(client, cron["cron_id"]) for r in await client.runs.list(t["thread_id"])]
    assert len(runs) == 1, "the second due time was over the day's quota"


def test_two_api_processes_give_one_run_per_due_time(cluster_factory):
    cluster = cluster_factory(NEXA_SERVER_CRON_SECONDS="0.2")
    url = cluster.start_api()
    other = cluster.start_api(port=free_port())
    cluster.start_worker()
    cluster.wait_for_workers(1)

    async def scenario() -> None:
        client = get_client(url=url)
        schedule, end = seconds_ahead(0, 2, 4)
        cron = await get_client(url=other).crons.create(
            "nexa_research", schedule=schedule, end_time=end, input={"topic": TOPIC}, context=QUICK,
            on_run_completed="keep")
        await asyncio.sleep((end - datetime.now(UTC)).total_seconds() + 2)
        threads = await cron_threads(client, cron["cron_id"])
        assert len(threads) == 3
        for thread in threads:
            assert len(await client.runs.list(thread["thread_id"])) == 1

    asyncio.run(scenario())
