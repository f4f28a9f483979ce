"""The LangGraph server API driven by langgraph_sdk, unchanged, against uvicorn and a real worker process.

Runs use scripted models (tests/support/server_providers.py) so they take seconds; everything else is real: uvicorn,
the Redis Stack, the taskiq queue, the worker, the Redis checkpointer.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError

from support.server_harness import auth_headers
from support.server_providers import FAILING_TOPIC, TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}


def section_titles(values: dict) -> list[str]:
    return [s["title"] for s in values["report"]["sections"]]


async def test_stream_updates_and_custom_progress_to_the_end(nexa_server):
    client = get_client(url=nexa_server.url)
    assistants = await client.assistants.search()
    assert [a["graph_id"] for a in assistants] == ["nexa_research"]
    assert (await client.assistants.get("nexa_research"))["assistant_id"] == assistants[0]["assistant_id"]
    thread = await client.threads.create(metadata={"owner": "tests"})
    parts = [p async for p in client.runs.stream(
        thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK,
        stream_mode=["updates", "custom"],
    )]
    assert parts[0].event == "metadata" and set(parts[0].data) == {"run_id", "attempt"}
    updated_nodes = [node for p in parts if p.event == "updates" for node in p.data]
    assert updated_nodes[:2] == ["cached_report", "plan"] and updated_nodes[-2:] == ["collate", "store_report"]
    progress = [p.data for p in parts if p.event == "custom"]
    assert {e.get("title") for e in progress if e.get("kind") == "section_progress"} == set(TITLES)
    assert not [p for p in parts if p.event.startswith("updates|")], "no subgraph events unless asked"
    state = await client.threads.get_state(thread["thread_id"])
    assert section_titles(state["values"]) == TITLES
    assert (await client.threads.get(thread["thread_id"]))["status"] == "idle"


async def test_subgraph_events_are_namespaced_when_asked(nexa_server):
    client = get_client(url=nexa_server.url)
    parts = [p async for p in client.runs.stream(
        None, "nexa_research", input={"topic": TOPIC}, context=QUICK, stream_mode="updates", stream_subgraphs=True,
    )]
    namespaced = [p.event for p in parts if p.event.startswith("updates|")]
    assert namespaced and all(e.split("|")[1].startswith("research_paragraph:") for e in namespaced)


async def test_create_then_join_and_wait(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    assert run["status"] == "pending" and run["thread_id"] == thread["thread_id"]
    joined = await client.runs.join(thread["thread_id"], run["run_id"])
    assert section_titles(joined) == TITLES
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "success"
    assert [r["run_id"] for r in await client.runs.list(thread["thread_id"])] == [run["run_id"]]
    waited = await client.runs.wait(None, "nexa_research", input={"topic": TOPIC}, context=QUICK)
    assert section_titles(waited) == TITLES


async def test_plan_review_interrupt_then_resume_approve_and_edit(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    paused = await client.runs.wait(
        thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context={**QUICK, "review_plan": True},
    )
    request = paused["__interrupt__"][0]["value"]
    assert request["kind"] == "plan_review" and [p["title"] for p in request["paragraphs"]] == TITLES
    assert (await client.threads.get(thread["thread_id"]))["status"] == "interrupted"
    done = await client.runs.wait(thread["thread_id"], "nexa_research", command={"resume": "approve"})
    assert section_titles(done) == TITLES

    other = await client.threads.create()
    await client.runs.wait(other["thread_id"], "nexa_research", input={"topic": TOPIC},
                           context={**QUICK, "review_plan": True})
    edited = [{"title": t, "outline": f"About {t}.", "questions": [f"What is {t}?", f"Why does {t} matter?"]}
              for t in TITLES[:3]]
    done = await client.runs.wait(other["thread_id"], "nexa_research",
                                  command={"resume": {"action": "edit", "paragraphs": edited}})
    assert section_titles(done) == TITLES[:3]


async def test_state_and_history(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    state = await client.threads.get_state(thread["thread_id"])
    assert state["next"] == [] and state["checkpoint"]["thread_id"] == thread["thread_id"]
    history = await client.threads.get_history(thread["thread_id"], limit=50)
    assert len(history) >= 4 and history[0]["checkpoint"] == state["checkpoint"]
    assert history[-1]["next"] == ["__start__"]
    first_plan = next(h for h in reversed(history) if h["values"].get("paragraphs"))
    old = await client.threads.get_state(thread["thread_id"], checkpoint_id=first_plan["checkpoint"]["checkpoint_id"])
    assert [p["title"] for p in old["values"]["paragraphs"]] == TITLES
    found = await client.threads.search(metadata={}, limit=100)
    assert thread["thread_id"] in [t["thread_id"] for t in found]


async def test_cancel_a_running_run(nexa_server, server_env):
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])
    hold.touch()
    try:
        client = get_client(url=nexa_server.url)
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
        await _wait_status(client, thread["thread_id"], run["run_id"], {"running"})
        with pytest.raises(ConflictError):  # the thread is busy; "reject" is the default strategy
            await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC})
        started = time.monotonic()
        await client.runs.cancel(thread["thread_id"], run["run_id"])
        await _wait_status(client, thread["thread_id"], run["run_id"], {"interrupted"})
        assert time.monotonic() - started < 10
    finally:
        hold.unlink()
    # The thread is free again, and a new run continues from the cancelled run's checkpoints.
    done = await client.runs.wait(thread["thread_id"], "nexa_research", context=QUICK)
    assert section_titles(done) == TITLES


async def test_enqueue_runs_one_after_another_on_a_thread(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    first = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    second = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC},
                                      context=QUICK, multitask_strategy="enqueue")
    await client.runs.join(thread["thread_id"], second["run_id"])
    runs = {r["run_id"]: r for r in await client.runs.list(thread["thread_id"])}
    assert runs[first["run_id"]]["status"] == runs[second["run_id"]]["status"] == "success"
    assert runs[first["run_id"]]["updated_at"] <= runs[second["run_id"]]["updated_at"]


async def test_join_stream_after_a_disconnect_loses_no_event(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    options = dict(input={"topic": TOPIC}, context=QUICK, stream_mode=["updates", "custom"], stream_resumable=True)
    full = [p async for p in client.runs.stream(thread["thread_id"], "nexa_research", **options)]
    thread2 = await client.threads.create()
    first_part = []
    async for part in client.runs.stream(thread2["thread_id"], "nexa_research", **options):
        first_part.append(part)
        if len(first_part) == 5:
            break  # the client goes away mid-run
    run_id = first_part[0].data["run_id"]
    rest = [p async for p in client.runs.join_stream(thread2["thread_id"], run_id, last_event_id=first_part[-1].id,
                                                     stream_mode=["updates", "custom"])]
    joined = first_part + rest
    assert len({p.id for p in joined}) == len(joined), "no event twice"
    # Sections run in parallel, so the order of their events differs between runs; what each run sent does not.
    assert sorted(p.event for p in joined) == sorted(p.event for p in full)
    assert joined[-1].event == "updates" and "store_report" in joined[-1].data


async def _wait_status(client, thread_id: str, run_id: str, statuses: set[str], timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = await client.runs.get(thread_id, run_id)
        if run["status"] in statuses:
            return run
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} did not reach {statuses}: {run['status']}")


async def test_events_stream_mode(nexa_server):
    client = get_client(url=nexa_server.url)
    parts = [p async for p in client.runs.stream(None, "nexa_research", input={"topic": TOPIC}, context=QUICK,
                                                 stream_mode=["events", "values"])]
    assert not [p for p in parts if p.event == "error"], [p.data for p in parts if p.event == "error"]
    kinds = {p.data["event"] for p in parts if p.event == "events"}
    assert {"on_chain_start", "on_chain_end", "on_chat_model_end"} <= kinds
    assert section_titles([p for p in parts if p.event == "values"][-1].data) == TITLES


async def test_a_failed_run_reports_its_error(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    parts = [p async for p in client.runs.stream(thread["thread_id"], "nexa_research", input={"topic": FAILING_TOPIC})]
    errors = [p.data for p in parts if p.event == "error"]
    assert errors == [{"error": "RuntimeError", "message": "scripted planner failure"}]
    run = (await client.runs.list(thread["thread_id"]))[0]
    assert run["status"] == "error"
    assert (await client.runs.join(thread["thread_id"], run["run_id"]))["__error__"]["error"] == "RuntimeError"
    assert (await client.threads.get(thread["thread_id"]))["status"] == "error"


async def test_sse_wire_format_heartbeats_and_location(nexa_server, server_env):
    """What the SDK relies on, read off the wire: event/data/id lines, metadata first, heartbeats, Location."""
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])
    hold.touch()
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    lines: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=nexa_server.url, timeout=30, headers=auth_headers()) as http:
            body = {"assistant_id": "nexa_research", "input": {"topic": TOPIC}, "context": QUICK, "stream_mode": "updates"}
            async with http.stream("POST", f"/threads/{thread['thread_id']}/runs/stream", json=body) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                assert response.headers["location"].startswith(f"/threads/{thread['thread_id']}/runs/")
                async for line in response.aiter_lines():
                    lines.append(line)
                    if line == ": heartbeat" and hold.exists():
                        hold.unlink()  # seen a heartbeat while the run waits: let it finish
    finally:
        hold.unlink(missing_ok=True)
    assert lines[0] == "event: metadata" and lines[1].startswith("data: {") and lines[2].startswith("id: ")
    assert ": heartbeat" in lines
    assert sum(1 for line in lines if line == "event: updates") >= 4


async def test_cancel_a_queued_run(nexa_server, server_env):
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])
    hold.touch()
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    try:
        first = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
        queued = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK,
                                          multitask_strategy="enqueue")
        await client.runs.cancel(thread["thread_id"], queued["run_id"])
        assert (await client.runs.get(thread["thread_id"], queued["run_id"]))["status"] == "interrupted"
    finally:
        hold.unlink()
    await client.runs.join(thread["thread_id"], first["run_id"])
    statuses = {r["run_id"]: r["status"] for r in await client.runs.list(thread["thread_id"])}
    assert statuses == {first["run_id"]: "success", queued["run_id"]: "interrupted"}
