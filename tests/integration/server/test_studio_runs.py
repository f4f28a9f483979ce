"""Run and thread calls Studio and the SDKs make beyond a plain client, with langgraph_sdk unchanged: a run from a
checkpoint (replay, fork), the thread's own stream, checkpoint metadata, batches of runs, bulk cancel, history
defaults.

A real uvicorn + worker cluster with scripted models (tests/support/server_providers.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError

from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}


def section_titles(values: dict[str, Any]) -> list[str]:
    return [s["title"] for s in values["report"]["sections"]]


async def _paused_then_finished(client: Any) -> tuple[str, str]:
    """A thread that paused for plan review and was approved: (thread id, the paused checkpoint's id)."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "nexa_research", input={"topic": TOPIC}, context={**QUICK, "review_plan": True})
    paused = (await client.threads.get_state(tid))["checkpoint"]["checkpoint_id"]
    await client.runs.wait(tid, "nexa_research", command={"resume": "approve"})
    return tid, paused


async def _children(client: Any, thread_id: str, checkpoint_id: str) -> list[dict[str, Any]]:
    history = await client.threads.get_history(thread_id, limit=200)
    return [h for h in history if (h["parent_checkpoint"] or {}).get("checkpoint_id") == checkpoint_id]


async def test_a_run_replays_and_forks_from_a_checkpoint(nexa_server):
    client = get_client(url=nexa_server.url)
    tid, paused = await _paused_then_finished(client)
    assert len(await _children(client, tid, paused)) == 1
    # Studio's replay: the checkpoint as a dict; the run answers the plan review again from there.
    replayed = await client.runs.wait(tid, "nexa_research", command={"resume": "approve"},
                                      checkpoint={"checkpoint_id": paused, "checkpoint_ns": ""})
    assert section_titles(replayed) == TITLES
    assert len(await _children(client, tid, paused)) == 2
    # The SDK's checkpoint_id: the same, and the thread's state is the newest branch's.
    forked = await client.runs.wait(tid, "nexa_research", command={"resume": "approve"}, checkpoint_id=paused)
    assert section_titles(forked) == TITLES
    assert len(await _children(client, tid, paused)) == 3
    state = await client.threads.get_state(tid)
    assert section_titles(state["values"]) == TITLES and state["next"] == []


async def test_a_run_from_a_checkpoint_that_does_not_exist_is_refused(nexa_server):
    client = get_client(url=nexa_server.url)
    tid, paused = await _paused_then_finished(client)
    runs_before = await client.runs.list(tid, limit=100)
    with pytest.raises(NotFoundError):
        await client.runs.create(tid, "nexa_research", checkpoint={"checkpoint_id": "1f0-no-such-checkpoint"})
    with pytest.raises(NotFoundError):
        await client.runs.create(None, "nexa_research", input={"topic": TOPIC}, checkpoint_id=paused)
    with pytest.raises(UnprocessableEntityError) as subgraph:
        await client.runs.create(tid, "nexa_research", checkpoint={"checkpoint_id": paused, "checkpoint_ns": "x"})
    assert "checkpoint_ns" in str(subgraph.value.response.json())
    with pytest.raises(UnprocessableEntityError):
        await client.runs.create(tid, "nexa_research", checkpoint_id=paused, checkpoint={"checkpoint_id": "other"})
    assert len(await client.runs.list(tid, limit=100)) == len(runs_before), "a refused run leaves no record"


async def _until(stream: Any, stop: Any) -> list[Any]:
    parts = []
    async for part in stream:
        parts.append(part)
        if stop(part):
            break
    return parts


def _run_done(part: Any) -> bool:
    return part.event == "metadata" and part.data.get("status") == "run_done"


async def test_the_thread_stream_follows_runs_and_state_updates(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    tid = thread["thread_id"]
    done = await client.runs.create(tid, "nexa_research", input={"topic": TOPIC}, context=QUICK)
    await client.runs.join(tid, done["run_id"])
    parts = await asyncio.wait_for(_until(await client.threads.join_stream(tid, last_event_id="-"), _run_done), 60)
    assert parts[0].event == "metadata" and parts[0].data == {"run_id": done["run_id"], "attempt": 1}
    assert parts[-1].data == {"status": "run_done", "run_id": done["run_id"]}
    assert {"values", "updates"} <= {p.event for p in parts}
    ids = [p.id for p in parts]
    assert len(set(ids)) == len(ids) and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    # Back with Last-Event-ID: exactly what came after that event.
    rest = await asyncio.wait_for(_until(await client.threads.join_stream(tid, last_event_id=ids[3]), _run_done), 60)
    assert [p.id for p in rest] == ids[4:]
    # Staying on after a run's end: the thread's next run, from its first event.
    following = asyncio.ensure_future(asyncio.wait_for(
        _until(await client.threads.join_stream(tid, last_event_id=ids[-1]), _run_done), 120))
    again = await client.runs.create(tid, "nexa_research", input={"topic": TOPIC}, context=QUICK)
    more = await following
    assert more[0].data == {"run_id": again["run_id"], "attempt": 1}
    assert more[-1].data == {"status": "run_done", "run_id": again["run_id"]}
    # From the beginning, only the runs' starts and ends; then a state edit, as a state update.
    lifecycle = await asyncio.wait_for(
        _until(await client.threads.join_stream(tid, last_event_id="-", stream_mode="lifecycle"),
               lambda p: _run_done(p) and p.data["run_id"] == again["run_id"]), 60)
    assert [p.data for p in lifecycle] == [parts[0].data, parts[-1].data, more[0].data, more[-1].data]
    await client.threads.update_state(tid, {"topic": "An edited topic"}, as_node="collate")
    updates = await asyncio.wait_for(_until(
        await client.threads.join_stream(tid, last_event_id="-", stream_mode="state_update"), lambda p: True), 60)
    assert updates[0].event == "state_update" and updates[0].data["thread_id"] == tid
    assert updates[0].data["state"]["values"]["topic"] == "An edited topic"
    with pytest.raises(UnprocessableEntityError):
        async for _ in await client.threads.join_stream(tid, stream_mode="everything"):  # type: ignore[arg-type]
            break
    with pytest.raises(NotFoundError):
        async for _ in await client.threads.join_stream("no-such-thread"):
            break


async def test_patch_state_merges_metadata_into_a_checkpoint(nexa_server):
    client = get_client(url=nexa_server.url)
    tid, paused = await _paused_then_finished(client)
    before = await client.threads.get_state(tid)
    assert await client.http.patch(f"/threads/{tid}/state", json={"metadata": {"label": "final"}}) is None
    after = await client.threads.get_state(tid)
    assert after["metadata"]["label"] == "final" and after["checkpoint"] == before["checkpoint"]
    assert after["values"] == before["values"] and after["metadata"]["step"] == before["metadata"]["step"]
    # An older checkpoint: labelled, its interrupt kept, and the thread's state still the latest one.
    await client.http.patch(f"/threads/{tid}/state", json={"metadata": {"label": "review"},
                                                          "checkpoint": {"checkpoint_id": paused}})
    old = await client.threads.get_state(tid, checkpoint_id=paused)
    assert old["metadata"]["label"] == "review" and old["next"] == ["review_plan"] and old["interrupts"]
    assert (await client.threads.get_state(tid))["checkpoint"] == before["checkpoint"]
    with pytest.raises(NotFoundError):
        await client.http.patch(f"/threads/{tid}/state", json={"metadata": {}, "checkpoint_id": "1f0-nope"})
    with pytest.raises(UnprocessableEntityError):
        await client.http.patch(f"/threads/{tid}/state", json={"label": "no metadata field"})


async def test_history_without_a_limit_is_the_latest_checkpoint(nexa_server):
    client = get_client(url=nexa_server.url)
    tid, _ = await _paused_then_finished(client)
    state = await client.threads.get_state(tid)
    got = await client.http.get(f"/threads/{tid}/history")
    posted = await client.http.post(f"/threads/{tid}/history", json={})
    assert [h["checkpoint"] for h in got] == [h["checkpoint"] for h in posted] == [state["checkpoint"]]


async def test_a_batch_of_stateless_runs(nexa_server):
    client = get_client(url=nexa_server.url)
    runs = await client.runs.create_batch([
        {"assistant_id": "nexa_research", "input": {"topic": TOPIC}, "context": QUICK},
        {"assistant_id": "nexa_research", "input": {"topic": TOPIC}, "context": QUICK, "metadata": {"n": 2}},
    ])
    assert len(runs) == 2 and runs[0]["thread_id"] != runs[1]["thread_id"] and runs[1]["metadata"] == {"n": 2}
    for run in runs:
        assert section_titles(await client.runs.join(run["thread_id"], run["run_id"])) == TITLES
    with pytest.raises(UnprocessableEntityError) as refused:
        await client.runs.create_batch([{"assistant_id": "nexa_research", "input": {"topic": TOPIC}},
                                        {"assistant_id": "nexa_research", "input": {"topic": TOPIC},
                                         "stream_mode": "sideways"}])
    assert "[1].stream_mode" in refused.value.response.json()["detail"]


async def _wait_status(client: Any, thread_id: str, run_id: str, statuses: set[str]) -> None:
    for _ in range(600):
        if (await client.runs.get(thread_id, run_id))["status"] in statuses:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached {statuses}")


async def test_cancel_many_by_ids_and_by_status(nexa_server, server_env):
    client = get_client(url=nexa_server.url)
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])
    hold.touch()
    try:
        one, two = await client.threads.create(), await client.threads.create()
        first = await client.runs.create(one["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
        await _wait_status(client, one["thread_id"], first["run_id"], {"running"})
        await client.runs.cancel_many(thread_id=one["thread_id"], run_ids=[first["run_id"]])
        await _wait_status(client, one["thread_id"], first["run_id"], {"interrupted"})
        second = await client.runs.create(two["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
        await client.runs.cancel_many(status="all")
        await _wait_status(client, two["thread_id"], second["run_id"], {"interrupted"})
    finally:
        hold.unlink(missing_ok=True)
    with pytest.raises(UnprocessableEntityError):
        await client.runs.cancel_many(status="pending", thread_id=one["thread_id"])
    with pytest.raises(UnprocessableEntityError):
        await client.runs.cancel_many(thread_id=one["thread_id"], run_ids=[first["run_id"]], action="rollback")
    with pytest.raises(NotFoundError):
        await client.runs.cancel_many(thread_id=one["thread_id"], run_ids=["no-such-run"])
