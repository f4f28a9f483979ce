"""A real server for tests: uvicorn and `nexa worker` processes on 127.0.0.1, a Redis Stack of their own.

Registered as a pytest plugin (conftest.py). `server_env` is the environment every process gets (scripted
providers from tests/support/server_providers.py, a short recovery bound so a killed worker's run is picked up in
seconds); `Cluster` starts and stops the processes; `nexa_server` is a module-scoped API + one worker.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from nexa_research.cli.serve import stop_processes

TESTS = Path(__file__).resolve().parents[1]  # the processes import support.server_providers from here
RECOVERY_SECONDS = 6


def auth_headers() -> dict[str, str]:
    """The test key of the module's server (langgraph_sdk reads it from LANGGRAPH_API_KEY by itself)."""
    return {"x-api-key": os.environ["LANGGRAPH_API_KEY"]}


def make_key(redis_url: str, owner: str, tier: str = "custom", daily_quota: int | None = None) -> str:
    from redis.asyncio import Redis

    from nexa_research.server.access.api_keys import KeyStore

    async def create() -> str:
        redis = Redis.from_url(redis_url)
        try:
            key, _ = await KeyStore(redis).create(owner, tier, daily_quota)
            return key
        finally:
            await redis.aclose()

    with ThreadPoolExecutor(max_workers=1) as pool:  # callable from async tests too
        return pool.submit(asyncio.run, create()).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """An API process and workers sharing one Redis; every process is stopped by `stop()`."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.apis: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = (self.logs / f"{name}-{time.monotonic_ns()}.log").open("w")
        return subprocess.Popen([sys.executable, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=TESTS)

    def start_api(self, port: int | None = None, extra_args: Sequence[str] = ()) -> str:
        port = port or self.port
        api = self._spawn(["-m", "uvicorn", "nexa_research.server.app:app", "--host", "127.0.0.1",
                                "--port", str(port), "--log-level", "warning", *extra_args], "api")
        self.apis.append(api)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert api.poll() is None, f"the API process exited: see {self.logs}"
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the API did not answer within 60 s: see {self.logs}")

    def start_worker(self, concurrency: int = 4) -> subprocess.Popen:
        worker = self._spawn(["-m", "nexa_research.cli", "worker", "--concurrency", str(concurrency)], "worker")
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(f"{self.url}/info", timeout=5, headers=auth_headers()).json()["workers"] >= count:
                return
            time.sleep(0.3)
        raise AssertionError(f"{count} worker(s) did not come up within {timeout} s: see {self.logs}")

    def stop(self) -> None:
        stop_processes([*self.workers, *self.apis], timeout=20)


@pytest.fixture(scope="module")
def server_env(redis_stack_factory, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The processes' environment; a "custom" tier key for the tests, exported as LANGGRAPH_API_KEY meanwhile."""
    redis = redis_stack_factory()
    redis.start()
    folder = tmp_path_factory.mktemp("server")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXA_", "REDIS_", "OPENAI", "EXA_"))}
    env.update({
        "REDIS_URL": redis.url,
        "NEXA_DATA_DIR": str(folder / "data"),
        "NEXA_CHECKPOINTER": "redis",
        "NEXA_CACHE": "false",
        "NEXA_RETRY_WAIT_SECONDS": "0",
        "LANGSMITH_TRACING": "false",
        "NEXA_SERVER_PROVIDERS": "support.server_providers:make",
        "NEXA_SERVER_RECOVERY_SECONDS": str(RECOVERY_SECONDS),
        "NEXA_SERVER_HEARTBEAT_SECONDS": "1",
        "NEXA_TEST_CALL_LOG": str(folder / "calls.jsonl"),
        "NEXA_TEST_HOLD_FILE": str(folder / "hold"),
        "PYTHONPATH": os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    })
    before = os.environ.get("LANGGRAPH_API_KEY")
    os.environ["LANGGRAPH_API_KEY"] = make_key(redis.url, "tests")
    yield env
    if before is None:
        os.environ.pop("LANGGRAPH_API_KEY", None)
    else:
        os.environ["LANGGRAPH_API_KEY"] = before


@pytest.fixture(scope="module")
def cluster_factory(server_env, tmp_path_factory) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(**extra_env: str) -> Cluster:
        cluster = Cluster({**server_env, **extra_env}, tmp_path_factory.mktemp("server-logs"))
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


@pytest.fixture(scope="module")
def nexa_server(cluster_factory) -> Cluster:
    """The API and one worker (4 slots), up and registered."""
    cluster = cluster_factory()
    cluster.start_api()
    cluster.start_worker()
    cluster.wait_for_workers(1)
    return cluster
