"""`POST /threads/prune` through langgraph_sdk's `client.threads.prune`: "delete" removes threads as DELETE does,
"keep_latest" keeps only each namespace's latest checkpoint (an interrupted thread still resumes), another key's
threads are not touched, and a thread with a run in progress refuses the whole call.

A real uvicorn + worker cluster with scripted models (tests/support/server_providers.py); Redis read directly to
see what is left of a thread.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, NotFoundError
from redis.asyncio import Redis

from support.server_harness import make_key
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}


async def _keys_of(redis_url: str, thread_id: str) -> list[str]:
    redis = Redis.from_url(redis_url)
    try:
        return [k.decode() async for k in redis.scan_iter(match=f"*{thread_id}*", count=1000)]
    finally:
        await redis.aclose()


def _checkpoints_per_namespace(keys: list[str], thread_id: str) -> Counter[str]:
    """checkpoint:<thread>:<namespace>:<checkpoint id> keys, counted by namespace."""
    prefix = f"checkpoint:{thread_id}:"
    return Counter(k[len(prefix):].rsplit(":", 1)[0] for k in keys if k.startswith(prefix))


async def _finished_thread(client) -> str:
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    return thread["thread_id"]


async def test_delete_removes_the_listed_threads_and_nothing_else(nexa_server, server_env):
    client = get_client(url=nexa_server.url)
    first, second, kept = [await _finished_thread(client) for _ in range(3)]
    assert await _keys_of(server_env["REDIS_URL"], first)
    neighbour = get_client(url=nexa_server.url, api_key=make_key(server_env["REDIS_URL"], "pruner", "custom"))

    assert await neighbour.threads.prune([kept]) == {"pruned_count": 0}, "another key's thread is not pruned"
    result = await client.threads.prune([first, second, first, "no-such-thread"])

    assert result == {"pruned_count": 2}
    for thread_id in (first, second):
        with pytest.raises(NotFoundError):
            await client.threads.get(thread_id)
        assert await _keys_of(server_env["REDIS_URL"], thread_id) == [], "checkpoints, records, logs: all gone"
    assert (await client.threads.get_state(kept))["values"]["report"]
    assert await client.threads.prune([]) == {"pruned_count": 0}


async def test_keep_latest_keeps_the_state_and_one_checkpoint_per_namespace(nexa_server, server_env):
    client = get_client(url=nexa_server.url)
    thread_id = await _finished_thread(client)
    before = await client.threads.get_state(thread_id)
    assert len(await client.threads.get_history(thread_id, limit=100)) > 1
    assert max(_checkpoints_per_namespace(await _keys_of(server_env["REDIS_URL"], thread_id), thread_id).values()) > 1

    assert await client.threads.prune([thread_id], strategy="keep_latest") == {"pruned_count": 1}

    after = await client.threads.get_state(thread_id)
    assert after["values"] == before["values"] and after["checkpoint"] == before["checkpoint"]
    assert [h["checkpoint"] for h in await client.threads.get_history(thread_id, limit=100)] == [before["checkpoint"]]
    per_namespace = _checkpoints_per_namespace(await _keys_of(server_env["REDIS_URL"], thread_id), thread_id)
    assert len(per_namespace) > 1 and set(per_namespace.values()) == {1}, per_namespace
    assert [r["status"] for r in await client.runs.list(thread_id)] == ["success"], "its runs are kept"


async def test_an_interrupted_thread_pruned_to_its_latest_checkpoint_still_resumes(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    paused = await client.runs.wait(thread["thread_id"], "nexa_research", input={"topic": TOPIC},
                                    context={**QUICK, "review_plan": True})
    assert paused["__interrupt__"]

    assert await client.threads.prune([thread["thread_id"]], strategy="keep_latest") == {"pruned_count": 1}

    assert (await client.threads.get(thread["thread_id"]))["status"] == "interrupted"
    done = await client.runs.wait(thread["thread_id"], "nexa_research", command={"resume": "approve"})
    assert [s["title"] for s in done["report"]["sections"]] == TITLES


async def test_a_thread_with_a_run_in_progress_refuses_the_prune(nexa_server, server_env):
    client = get_client(url=nexa_server.url)
    idle = await _finished_thread(client)
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])
    hold.touch()
    try:
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
        deadline = time.monotonic() + 30
        while (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] != "running":
            assert time.monotonic() < deadline, "the run did not start"
            await asyncio.sleep(0.2)
        for strategy in ("delete", "keep_latest"):
            with pytest.raises(ConflictError, match=thread["thread_id"]):
                await client.threads.prune([idle, thread["thread_id"]], strategy=strategy)
        assert (await client.threads.get(idle))["status"] == "idle", "nothing was pruned"
    finally:
        hold.unlink()
    done = await client.runs.join(thread["thread_id"], run["run_id"])
    assert [s["title"] for s in done["report"]["sections"]] == TITLES, "the run's work is whole"
    assert await client.threads.prune([idle, thread["thread_id"]]) == {"pruned_count": 2}
