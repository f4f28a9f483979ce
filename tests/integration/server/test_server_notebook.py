"""notebooks/server.ipynb runs top to bottom (top-level await as in Jupyter) against a real `nexa serve`.

The notebook makes itself an API key and starts the server as a subprocess, both inheriting this process's
environment: scripted providers (tests/support/server_providers.py, so a run takes seconds), the session's Redis Stack,
checkpoints in Redis, no cache. Whatever a cell does, the server and its worker are stopped afterwards.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from nexa_research.server.access.api_keys import KeyStore
from support.paths import REPO, TESTS
from support.server_providers import TITLES

pytestmark = pytest.mark.redis

NOTEBOOK = REPO / "notebooks" / "server.ipynb"


@pytest.fixture
def server_environment(monkeypatch: pytest.MonkeyPatch, redis_stack_url: str, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the notebook writes the server's log
    for name, value in {"REDIS_URL": redis_stack_url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false",
                        "NEXA_USE_MEMORY": "false", "NEXA_SERVER_PROVIDERS": "support.server_providers:make"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))


def _state(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) from /proc, or None once the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[0]


def children(pid: int) -> set[int]:
    found = (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
    return {child for child in found if (_state(child) or (0,))[0] == pid}


def running(pids: set[int]) -> set[int]:
    return {pid for pid in pids if (_state(pid) or (0, "Z"))[1] != "Z"}


def stop(namespace: dict, workers: set[int]) -> set[int]:
    """Stop the server the notebook started, even when a cell failed before the notebook's last cell; then stop
    any of its worker processes that outlived it (the test must leave none behind) and return those."""
    server = namespace.get("server")
    if isinstance(server, subprocess.Popen) and server.poll() is None:
        workers |= children(server.pid)
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if namespace.get("log") is not None:
        namespace["log"].close()
    left = running(workers)
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        for pid in running(left):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while running(left) and time.monotonic() < deadline:
            time.sleep(0.1)
    return left


async def test_server_notebook_runs(server_environment, redis_stack_url):
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    namespace: dict = {}
    workers: set[int] = set()
    try:
        for cell in cells:
            code = compile("".join(cell["source"]), str(NOTEBOOK), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            result = eval(code, namespace)  # noqa: S307 - our own notebook
            if result is not None:
                await result
            if not workers and "server" in namespace:  # the cell that started it waited for its worker
                workers = children(namespace["server"].pid)
    finally:
        left = stop(namespace, workers)

    assert workers, "nexa serve started no worker process"
    assert not left, f"stopping nexa serve left its workers {sorted(left)} running"
    assert namespace["server"].returncode is not None
    assert [a["graph_id"] for a in namespace["assistants"]] == ["nexa_research"]

    progress = namespace["progress"]
    kinds = [e["kind"] for e in progress]
    assert kinds[0] == "plan" and kinds[-1] == "report"
    steps = [e for e in progress if e["kind"] == "section_progress"]
    planned = progress[0]["sections"]
    assert {e["title"] for e in steps} == set(planned) and set(planned) <= set(TITLES)
    assert {e["status"] for e in steps} >= {"querying", "searched", "done"}
    assert [s["title"] for s in namespace["report"]["sections"]] == planned
    assert namespace["report"]["bibliography"]

    review = namespace["review"]
    assert review["kind"] == "plan_review"
    proposed = [p["title"] for p in review["paragraphs"]]
    assert [s["title"] for s in namespace["approved"]["report"]["sections"]] == proposed
    edited_titles = [p["title"] for p in namespace["edited_plan"]]
    assert [s["title"] for s in namespace["edited"]["report"]["sections"]] == edited_titles
    assert edited_titles[-1] == "Effects on literacy"

    served = namespace["served"]["report"]
    assert served["metadata"]["thread_id"] == namespace["served_thread"]
    assert [s["title"] for s in served["sections"]] == planned
    assert "store_report" in namespace["chunks"][-1]
    assert [list(c) for c in namespace["stored"]] == [["stored_report"]]
    assert namespace["stored"][0]["stored_report"]["report"] == served

    redis = Redis.from_url(redis_stack_url)
    try:
        key = await KeyStore(redis).get(namespace["api_key"].split("_")[1])
    finally:
        await redis.aclose()
    assert key is not None and key.owner == "notebook" and key.revoked, "the notebook revokes the key it made"
