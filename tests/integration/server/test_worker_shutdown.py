"""A worker told to stop (SIGTERM, as a deploy or the end of `nexa serve` sends it) exits within its
graceful-shutdown bound whatever its runs are doing, and hands them back so another worker finishes them.

A deploy waits for old workers to exit; one that stays alive blocks it until something SIGKILLs it, and a
SIGKILLed worker's runs wait for their lease to expire. The runs here are stopped in the middle of a model call
that blocks the thread it runs on (as a call to a local model or an embedding does: nothing can interrupt it) or
in a search awaiting on the event loop, with one more run waiting in the queue behind the worker's full slots.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from support.server_harness import auth_headers
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}
SHUTDOWN_BOUND = 30  # the worker's default graceful-shutdown bound (NEXA_SERVER_SHUTDOWN_SECONDS)


def slow_calls(calls_file: Path, pid: int) -> int:
    """Calls the worker `pid` made for a section that blocks while the hold file exists."""
    if not calls_file.exists():
        return 0
    calls = [json.loads(line) for line in calls_file.read_text().splitlines()]
    return sum(1 for c in calls if c["pid"] == pid and "slow" in c["section"])


def exit_code_within(process: subprocess.Popen, seconds: float) -> int | None:
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


@pytest.mark.parametrize(
    "hold_env", ["NEXA_TEST_MODEL_HOLD_FILE", "NEXA_TEST_HOLD_FILE"], ids=["model-call-in-a-thread", "awaited-search"]
)
async def test_a_worker_stopped_mid_run_exits_within_its_bound_and_another_finishes_its_runs(
    cluster_factory, server_env, tmp_path, hold_env
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    calls_file = Path(server_env["NEXA_TEST_CALL_LOG"])
    cluster = cluster_factory(**{hold_env: str(hold)})
    try:
        cluster.start_api()
        first = cluster.start_worker(concurrency=2)
        cluster.wait_for_workers(1)
        client = get_client(url=cluster.url)
        runs = [await client.runs.create(None, "nexa_research", input={"topic": TOPIC}, context=QUICK) for _ in range(3)]

        async def running() -> int:
            return sum([(await client.runs.get(r["thread_id"], r["run_id"]))["status"] == "running" for r in runs])

        deadline = time.monotonic() + 60
        while not (await running() == 2 and slow_calls(calls_file, first.pid) >= 2):
            assert time.monotonic() < deadline, f"two runs did not reach a slow call: see {cluster.logs}"
            time.sleep(0.2)
        time.sleep(1)  # both runs' slow calls are in progress

        first.send_signal(signal.SIGTERM)
        code = exit_code_within(first, SHUTDOWN_BOUND)
        handed_back = [(await client.runs.get(r["thread_id"], r["run_id"]))["status"] for r in runs]
        workers_after = httpx.get(f"{cluster.url}/info", headers=auth_headers(), timeout=5).json()["workers"]

        cluster.start_worker(concurrency=4)
        hold.unlink()
        finals = [await client.runs.join(r["thread_id"], r["run_id"]) for r in runs]
        statuses = [(await client.runs.get(r["thread_id"], r["run_id"]))["status"] for r in runs]
    finally:
        hold.unlink(missing_ok=True)
        cluster.stop()
    assert code == 0, f"the worker did not exit within {SHUTDOWN_BOUND} s of SIGTERM (see {cluster.logs})"
    assert "success" not in handed_back, "no run finished on the stopped worker: they were handed back"
    assert workers_after == 0, "the stopped worker no longer counts as alive"
    assert statuses == ["success"] * 3
    assert all([s["title"] for s in f["report"]["sections"]] == TITLES for f in finals)
