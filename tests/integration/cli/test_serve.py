"""`nexa serve` on a machine without REDIS_URL: it starts the embedded Redis Stack, uvicorn and its workers, a
run goes through them, and stopping the server stops its workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from langgraph_sdk import get_client

from support.server_harness import TESTS, free_port
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis


def worker_pids(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                    command = cmd.read().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(fields[1]) == parent and " worker" in command:
                found.append(int(entry))
    return found


async def test_nexa_serve_starts_redis_the_api_and_workers(embedded_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("NEXA_CHECKPOINTER", "redis")
    monkeypatch.setenv("NEXA_SERVER_PROVIDERS", "support.server_providers:make")
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "nexa_research.cli", "serve", "--port", str(port), "--workers", "2"],
                              stdout=log, stderr=subprocess.STDOUT, cwd=TESTS)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        assert httpx.get(f"{url}/info").status_code == 401, "routes need a key"
        created = subprocess.run([sys.executable, "-m", "nexa_research.cli", "keys", "create", "--owner", "me", "--tier", "pro"],
                                 capture_output=True, text=True, check=True, cwd=TESTS)
        key = created.stdout.strip()
        while httpx.get(f"{url}/info", headers={"x-api-key": key}).json()["workers"] < 2:
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        assert (embedded_data_dir / "redis" / "server.json").exists(), "the embedded Redis Stack serves the server"
        workers = worker_pids(server.pid)
        assert len(workers) == 2
        # runs are batch work: workers yield the cores to the API and Redis (NEXA_SERVER_WORKER_NICE, default 10)
        assert [niceness(pid) for pid in workers] == [10, 10] and niceness(server.pid) == 0
        done = await get_client(url=url, api_key=key).runs.wait(None, "nexa_research", input={"topic": TOPIC},
                                                   context={"max_iterations": 1, "max_sections": 4})
        assert [s["title"] for s in done["report"]["sections"]] == TITLES
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=90)
    # `nexa serve` ends once its workers have: each exits within its shutdown bound, and is killed past it
    assert server.returncode == 128 + signal.SIGTERM
    assert alive(workers) == []


def niceness(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


def alive(pids: list[int]) -> list[int]:
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(pid)
        except OSError:
            continue
    return found
