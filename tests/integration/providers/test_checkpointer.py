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

from nexa_research.providers.checkpointer import open_async_checkpointer
from nexa_research.providers.services.redis_server import RedisModulesMissingError

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
    async with open_async_checkpointer(redis_stack_url) as saver:
        await _fail_resume_and_read(calls, saver, redis_stack_url)


async def _fail_resume_and_read(calls: dict[str, int], saver, redis_stack_url: str) -> None:
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
        "from langgraph.checkpoint.redis import RedisSaver\n"
        "import redis\n"
        "saver = RedisSaver(redis_client=redis.Redis.from_url(sys.argv[1]))\n"
        "found = saver.get_tuple({'configurable': {'thread_id': sys.argv[2], 'checkpoint_ns': ''}})\n"
        "print(json.dumps(found.checkpoint['channel_values']['log']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", reader, redis_stack_url, thread], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["gathered", "written"]


async def test_a_saver_closes_its_client_with_its_block(redis_stack_url: str) -> None:
    import redis

    probe = redis.Redis.from_url(redis_stack_url)
    before = len(probe.client_list())
    async with open_async_checkpointer(redis_stack_url) as saver:
        assert await saver.aget_tuple({"configurable": {"thread_id": "never-used", "checkpoint_ns": ""}}) is None
        assert len(probe.client_list()) > before
    assert len(probe.client_list()) == before
    probe.close()


async def test_plain_redis_is_refused_before_setup_with_a_clear_error(plain_redis_url: str) -> None:
    with pytest.raises(RedisModulesMissingError, match="RedisJSON/RediSearch.*unset REDIS_URL"):
        async with open_async_checkpointer(plain_redis_url):
            pass


