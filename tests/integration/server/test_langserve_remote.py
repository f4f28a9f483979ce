"""/research as a LangServe client sees it: `langserve.RemoteRunnable`, unchanged, against a real uvicorn on
127.0.0.1, the app's runtime on the session's Redis Stack (checkpointer on, report cache off, so only the thread
can explain a report that comes back without model calls).

The server runs in a thread of the test process, so the scripted models' call records show what each request
cost.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from langgraph_sdk import get_client
from langserve import RemoteRunnable

from nexa_research.builder import build_graph
from nexa_research.providers import StaticProviders
from nexa_research.runtime import ResearchRuntime
from nexa_research.server.langserve_graph import add_research_routes
from support.scripted_models import field, providers_for
from support.server_harness import auth_headers
from support.server_providers import TITLES as SERVER_TITLES
from support.server_providers import TOPIC as SERVER_TOPIC

pytestmark = pytest.mark.redis
TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]
ROLES = ("planner", "query_writer", "reflection", "synthesizer", "collator")


def research_app(providers: StaticProviders) -> FastAPI:
    """The app server/app.py builds, reduced to /research: one runtime opened by the lifespan."""
    opened: list[ResearchRuntime] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with ResearchRuntime(providers) as runtime:
            opened.append(runtime)
            yield
            opened.clear()

    app = FastAPI(lifespan=lifespan)
    add_research_routes(app, lambda: opened[0], build_graph(providers))
    return app


@dataclass
class Served:
    url: str
    providers: StaticProviders

    def remote(self, **kwargs) -> RemoteRunnable:
        return RemoteRunnable(f"{self.url}/research", timeout=60, **kwargs)

    def model_calls(self) -> int:
        return sum(len(self.providers._chat[role].calls) for role in ROLES)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, redis_stack_url: str) -> Iterator[Served]:
    """uvicorn in a thread on a socket bound to a free port (no race for the port); stopped after the test."""
    for name, value in {"REDIS_URL": redis_stack_url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false",
                        "NEXA_USE_MEMORY": "false"}.items():
        monkeypatch.setenv(name, value)
    providers = providers_for(TITLES)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(research_app(providers), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start (its lifespan failed, see the log)"
        yield Served(f"http://127.0.0.1:{sock.getsockname()[1]}", providers)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


def topic() -> dict[str, str]:
    return {"topic": "The printing press"}


def on_thread(thread_id: str, **knobs) -> dict:
    return {"configurable": {"max_iterations": 1, "thread_id": thread_id, **knobs}}


def new_thread() -> str:
    return uuid.uuid4().hex


def test_invoke_keeps_thread_id_and_a_second_invoke_returns_the_stored_report(served: Served):
    remote, thread_id = served.remote(), new_thread()
    first = remote.invoke(topic(), config=on_thread(thread_id, language="French"))
    assert first["report"]["metadata"]["thread_id"] == thread_id
    assert first["report"]["metadata"]["config"]["language"] == "French"
    assert [s["title"] for s in first["report"]["sections"]] == TITLES
    calls = served.model_calls()
    assert calls > 0

    again = remote.invoke(topic(), config={"configurable": {"thread_id": thread_id}})
    assert again["report"] == first["report"]
    assert served.model_calls() == calls, "a finished thread called models again"

    other = remote.invoke(topic(), config={"configurable": {"max_iterations": 1}})
    assert other["report"]["metadata"]["thread_id"] != thread_id
    assert served.model_calls() > calls, "without a thread_id a run is new"


def test_thread_id_from_the_x_thread_id_header(served: Served):
    thread_id = new_thread()
    first = served.remote(headers={"X-Thread-Id": thread_id}).invoke(topic(), config={"configurable": {"max_iterations": 1}})
    assert first["report"]["metadata"]["thread_id"] == thread_id
    calls = served.model_calls()
    again = served.remote().invoke(topic(), config={"configurable": {"thread_id": thread_id}})
    assert again["report"] == first["report"] and served.model_calls() == calls


async def test_ainvoke_on_a_thread_holding_another_topic_is_a_422(served: Served):
    remote, thread_id = served.remote(), new_thread()
    await remote.ainvoke(topic(), config=on_thread(thread_id))
    with pytest.raises(httpx.HTTPStatusError) as raised:
        await remote.ainvoke({"topic": "Steam engines"}, config=on_thread(thread_id))
    assert raised.value.response.status_code == 422
    assert raised.value.response.json()["detail"].startswith("thread_id:")


def test_stream_sends_node_updates_then_the_stored_report(served: Served):
    remote, thread_id = served.remote(), new_thread()
    chunks = list(remote.stream(topic(), config=on_thread(thread_id)))
    nodes = [name for chunk in chunks for name in chunk]
    assert nodes[:2] == ["cached_report", "plan"] and nodes.count("research_paragraph") == len(TITLES)
    report = next(chunk["collate"]["report"] for chunk in chunks if "collate" in chunk)
    assert report["metadata"]["thread_id"] == thread_id

    calls = served.model_calls()
    stored = list(remote.stream(topic(), config={"configurable": {"thread_id": thread_id}}))
    assert stored == [{"stored_report": {"title": "The Printing Press", "report": report}}]
    assert served.model_calls() == calls


def test_batch_runs_each_input_on_its_own_thread(served: Served):
    threads = [new_thread(), new_thread()]
    inputs = [topic(), {"topic": "Movable type"}]
    outputs = served.remote().batch(inputs, config=[on_thread(t) for t in threads])
    assert [o["report"]["metadata"]["thread_id"] for o in outputs] == threads
    assert [o["report"]["topic"] for o in outputs] == ["The printing press", "Movable type"]

    calls, shared = served.model_calls(), new_thread()
    for remote, configs, says in [(served.remote(headers={"X-Thread-Id": shared}), None, "not on /batch"),
                                  (served.remote(), [on_thread(shared), on_thread(shared)], "more than one input")]:
        with pytest.raises(httpx.HTTPStatusError) as raised:
            remote.batch(inputs, config=configs)
        assert raised.value.response.status_code == 422 and says in raised.value.response.text
    assert served.model_calls() == calls


async def test_astream_events_reports_the_graph_nodes(served: Served):
    events = [e async for e in served.remote().astream_events(topic(), config=on_thread(new_thread()), version="v2")]
    started = {e["name"] for e in events if e["event"] == "on_chain_start"}
    assert {"plan", "collate"} <= started
    assert events[-1]["event"] == "on_chain_end" and events[-1]["data"]["output"]["report"]["sections"]


@pytest.mark.parametrize(
    ("configurable", "loc"),
    [
        ({"max_iterations": 7}, ["configurable", "max_iterations"]),
        ({"max_iteration": 1}, ["configurable", "max_iteration"]),
        ({"thread_id": ""}, ["configurable", "thread_id"]),
        ({"thread_id": "a thread"}, ["configurable", "thread_id"]),
    ],
)
def test_bad_knobs_and_thread_ids_are_a_422_naming_the_field(served: Served, configurable, loc):
    with pytest.raises(httpx.HTTPStatusError) as raised:
        served.remote().invoke(topic(), config={"configurable": configurable})
    assert raised.value.response.status_code == 422
    assert raised.value.response.json()["detail"][0]["loc"] == loc
    assert served.model_calls() == 0


def test_a_bad_or_conflicting_thread_header_is_a_422(served: Served):
    url = f"{served.url}/research/invoke"
    body = {"input": topic(), "config": {"configurable": {"thread_id": "one"}}}
    for header in ("", "two", "x/y"):
        response = httpx.post(url, json=body, headers={"X-Thread-Id": header})
        assert response.status_code == 422, header
        assert response.json()["detail"][0]["loc"] == ["header", "x-thread-id"]
    assert served.model_calls() == 0


def test_plan_review_needs_a_thread_and_a_paused_thread_is_a_409(served: Served):
    remote, thread_id = served.remote(), new_thread()
    with pytest.raises(httpx.HTTPStatusError) as raised:
        remote.invoke(topic(), config={"configurable": {"review_plan": True}})
    assert raised.value.response.status_code == 422 and "review_plan" in raised.value.response.json()["detail"]

    paused = remote.invoke(topic(), config=on_thread(thread_id, review_plan=True))
    assert paused["report"] is None and [p["title"] for p in paused["paragraphs"]] == TITLES
    with pytest.raises(httpx.HTTPStatusError) as raised:
        remote.invoke(topic(), config={"configurable": {"thread_id": thread_id}})
    assert raised.value.response.status_code == 409
    assert f"/threads/{thread_id}/runs" in raised.value.response.json()["detail"]


def test_a_paused_stream_ends_with_the_interrupt(served: Served):
    chunks = list(served.remote().stream(topic(), config=on_thread(new_thread(), review_plan=True)))
    (request,) = chunks[-1]["__interrupt__"]
    assert request["value"]["kind"] == "plan_review"


def test_a_failed_run_continues_on_its_thread_without_redoing_finished_work(served: Served):
    synthesizer = served.providers._chat["synthesizer"]
    writes = synthesizer.respond

    def fails_on_literacy(messages):
        if "Effects on literacy" in field(messages, "Section"):
            time.sleep(0.5)  # the other branches finish (and are checkpointed) before this one fails the run
            raise RuntimeError("synthesizer crashed")  # not a ProviderError: the run fails, checkpoints stay
        return writes(messages)

    remote, thread_id = served.remote(), new_thread()
    synthesizer.respond = fails_on_literacy
    # uvicorn closes the connection after an unhandled error's 500, so this client's pooled connection is dead:
    # the next call goes through a new client.
    with pytest.raises(httpx.HTTPStatusError) as raised:
        remote.invoke(topic(), config=on_thread(thread_id))
    assert raised.value.response.status_code == 500
    synthesizer.respond = writes
    planned, written = len(served.providers._chat["planner"].calls), len(synthesizer.calls)

    report = served.remote().invoke(topic(), config={"configurable": {"thread_id": thread_id}})["report"]
    assert [s["title"] for s in report["sections"]] == TITLES and report["metadata"]["thread_id"] == thread_id
    assert len(served.providers._chat["planner"].calls) == planned, "the plan was made again"
    assert len(synthesizer.calls) - written == 1, "finished sections were written again"


async def test_a_thread_paused_through_langserve_is_resumed_through_the_runs_api(nexa_server, server_env):
    """The documented answer, end to end on the real server: API process + worker, one Redis checkpointer."""
    calls = Path(server_env["NEXA_TEST_CALL_LOG"])
    remote = RemoteRunnable(f"{nexa_server.url}/research", timeout=60, headers=auth_headers())
    thread_id = new_thread()
    paused = await remote.ainvoke({"topic": SERVER_TOPIC}, config=on_thread(thread_id, review_plan=True, max_sections=4))
    assert paused["report"] is None and [p["title"] for p in paused["paragraphs"]] == SERVER_TITLES

    done = await get_client(url=nexa_server.url).runs.wait(
        thread_id, "nexa_research", command={"resume": "approve"}, if_not_exists="create"
    )
    assert [s["title"] for s in done["report"]["sections"]] == SERVER_TITLES
    logged = calls.read_text()
    again = await remote.ainvoke({"topic": SERVER_TOPIC}, config={"configurable": {"thread_id": thread_id}})
    assert again["report"] == done["report"]
    assert calls.read_text() == logged, "the finished thread called models or search again"


def test_playground_page_loads(served: Served):
    response = httpx.get(f"{served.url}/research/playground/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
