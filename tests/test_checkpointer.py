"""Redis checkpointers: a failed run resumes where it stopped, and another process sees the same thread."""

from __future__ import annotations

import json
import operator
import subprocess
import sys
import uuid
from typing import Annotated

import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from nexa_research.providers.checkpointer import (
    aclose_async_checkpointers,
    close_checkpointers,
    open_async_checkpointer,
    open_checkpointer,
)
from nexa_research.providers.redis_server import RedisModulesMissingError

pytestmark = pytest.mark.redis


class TwoStepState(TypedDict):
    log: Annotated[list[str], operator.add]


def two_step_graph(calls: dict[str, int], fail_times: int) -> StateGraph:
    """gather -> write; `write` raises on its first `fail_times` calls, like a model endpoint that went away."""

    async def gather(state: TwoStepState) -> dict[str, list[str]]:
        calls["gather"] += 1
        return {"log": ["gathered"]}

    async def write(state: TwoStepState) -> dict[str, list[str]]:
        calls["write"] += 1
        if calls["write"] <= fail_times:
            raise RuntimeError("writer endpoint unavailable")
        return {"log": ["written"]}

    graph = StateGraph(TwoStepState)
    graph.add_node("gather", gather)
    graph.add_node("write", write)
    graph.add_edge(START, "gather")
    graph.add_edge("gather", "write")
    graph.add_edge("write", END)
    return graph


async def test_a_failed_run_resumes_at_the_failed_node_and_another_process_reads_it(redis_stack_url: str) -> None:
    calls = {"gather": 0, "write": 0}
    saver = await open_async_checkpointer(redis_stack_url)
    app = two_step_graph(calls, fail_times=1).compile(checkpointer=saver)
    thread = f"t-{uuid.uuid4().hex}"
    cfg = {"configurable": {"thread_id": thread}}

    with pytest.raises(RuntimeError, match="writer endpoint unavailable"):
        await app.ainvoke({"log": []}, cfg)
    stopped = await app.aget_state(cfg)
    assert stopped.next == ("write",)
    assert stopped.values["log"] == ["gathered"]

    final = await app.ainvoke(None, cfg)
    assert final["log"] == ["gathered", "written"]
    assert calls == {"gather": 1, "write": 2}  # gather was not run again

    reader = (
        "import json, sys\n"
        "from nexa_research.providers.checkpointer import open_checkpointer\n"
        "saver = open_checkpointer(sys.argv[1])\n"
        "found = saver.get_tuple({'configurable': {'thread_id': sys.argv[2], 'checkpoint_ns': ''}})\n"
        "print(json.dumps(found.checkpoint['channel_values']['log']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", reader, redis_stack_url, thread], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["gathered", "written"]
    await aclose_async_checkpointers()


async def test_savers_are_shared_per_url_and_reopened_after_close(redis_stack_url: str) -> None:
    first = await open_async_checkpointer(redis_stack_url)
    assert await open_async_checkpointer(redis_stack_url) is first
    await aclose_async_checkpointers()
    reopened = await open_async_checkpointer(redis_stack_url)
    assert reopened is not first
    assert await reopened.aget_tuple({"configurable": {"thread_id": "never-used", "checkpoint_ns": ""}}) is None
    await aclose_async_checkpointers()

    sync_saver = open_checkpointer(redis_stack_url)
    assert open_checkpointer(redis_stack_url) is sync_saver
    close_checkpointers()
    assert open_checkpointer(redis_stack_url) is not sync_saver
    close_checkpointers()


def test_sync_saver_checkpoints_a_sync_run(redis_stack_url: str) -> None:
    class State(TypedDict):
        n: int

    graph = StateGraph(State)
    graph.add_node("inc", lambda s: {"n": s["n"] + 1})
    graph.add_edge(START, "inc")
    graph.add_edge("inc", END)
    app = graph.compile(checkpointer=open_checkpointer(redis_stack_url))
    cfg = {"configurable": {"thread_id": f"t-{uuid.uuid4().hex}"}}
    assert app.invoke({"n": 1}, cfg) == {"n": 2}
    assert app.get_state(cfg).values == {"n": 2}
    close_checkpointers()


async def test_plain_redis_is_refused_before_setup_with_a_clear_error(plain_redis_url: str) -> None:
    with pytest.raises(RedisModulesMissingError, match="RedisJSON/RediSearch"):
        await open_async_checkpointer(plain_redis_url)
    with pytest.raises(RedisModulesMissingError, match="unset REDIS_URL"):
        open_checkpointer(plain_redis_url)
