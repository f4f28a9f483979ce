"""Real Redis servers for tests: a session-wide Redis Stack (our EmbeddedRedis) and, where installed, plain Redis.

Register with `pytest_plugins = ["redis_fixtures"]` in conftest.py. The Redis Stack fixture never skips: if
OpenSSL 1.1 or the wheel is missing it fails with the library's own `ServiceStartError`, which says to run
`nexa setup` (tests never fetch it). Embedded servers are detached and would outlive the session, so every fixture
stops what it started, and `embedded_data_dir` also checks that no server or reaper of its folder is left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nexa_research.providers.services.openssl import find_libssl11
from nexa_research.providers.services.redis_embedded import EmbeddedRedis, stop_server
from nexa_research.providers.services.redis_launch import free_port
from nexa_research.providers.services.redis_server import ping
from nexa_research.providers.settings import ProviderSettings


@pytest.fixture(scope="session", autouse=True)
def _no_embedded_redis_outlives_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A safety net for servers a test started through the library (detached, so nothing else would stop them)."""
    yield
    for record in tmp_path_factory.getbasetemp().rglob("server.json"):
        stop_server(record.parent)


@pytest.fixture(scope="session")
def redis_stack_lib_dir() -> Path | None:
    """OpenSSL 1.1 from the user's data folder (fetched once by `nexa setup`, never by tests)."""
    return find_libssl11(ProviderSettings.load())


@pytest.fixture(scope="session")
def redis_stack_factory(
    tmp_path_factory: pytest.TempPathFactory, redis_stack_lib_dir: Path | None
) -> Iterator[Callable[..., EmbeddedRedis]]:
    """Make extra servers (a fresh data folder unless one is given); all are stopped at the end of the session.

    They never stop when idle: tests hold on to their URLs without looking them up again."""
    made: list[EmbeddedRedis] = []

    def make(data_dir: Path | None = None, port: int | None = None) -> EmbeddedRedis:
        folder = data_dir or tmp_path_factory.mktemp("redis")
        server = EmbeddedRedis(folder, lib_dir=redis_stack_lib_dir, port=port, idle_minutes=0)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture(scope="session")
def redis_stack(redis_stack_factory: Callable[..., EmbeddedRedis]) -> EmbeddedRedis:
    server = redis_stack_factory()
    server.start()
    return server


@pytest.fixture(scope="session")
def redis_stack_url(redis_stack: EmbeddedRedis) -> str:
    """URL of a running Redis Stack (RedisJSON + RediSearch, AOF in a temporary folder) shared by the session."""
    assert redis_stack.url is not None
    return redis_stack.url


def service_processes(root: Path) -> list[str]:
    """Embedded redis-servers serving, and idle reapers watching, a folder under `root`: only this test's own
    (other jobs on the machine run their own servers, so a plain `pgrep redis-server` would see theirs)."""
    root_text, found = os.path.realpath(root), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.path.realpath(os.readlink(entry / "cwd"))
        except OSError:  # ended meanwhile, or a zombie
            continue
        if ("redis-server" in command and cwd.startswith(root_text)) or (
            "redis_folder.py" in command and root_text in command
        ):
            found.append(f"{entry.name}: {command.strip()}")
    return found


@pytest.fixture
def embedded_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_data_dir: Path) -> Iterator[Path]:
    """A fresh NEXA_DATA_DIR whose embedded Redis (`<dir>/redis`) runs may start (idle stop off unless the test sets
    NEXA_REDIS_IDLE_MINUTES); afterwards its server is stopped and no server or reaper of it may be left."""
    data = (tmp_path / "data").resolve()
    data.mkdir()
    (data / "openssl11").symlink_to(isolated_data_dir / "openssl11", target_is_directory=True)
    monkeypatch.setenv("NEXA_DATA_DIR", str(data))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("NEXA_REDIS_IDLE_MINUTES", "0")
    yield data
    stop_server(data / "redis")
    deadline = time.monotonic() + 5  # processes just signalled need a moment to be gone from /proc
    while service_processes(data) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service_processes(data) == []


@pytest.fixture(scope="session")
def plain_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's module-less Redis 7 on a free port (never the system service on 6379).

    Debian's `redis-tools` (no service, nothing starts on install) ships the whole server as `redis-check-rdb`;
    it runs as a server when invoked under the name `redis-server`, so a symlink is enough.
    """
    data = tmp_path_factory.mktemp("plain-redis")
    binary = shutil.which("redis-server")
    if binary is None and shutil.which("redis-check-rdb"):
        binary = str(data / "redis-server")
        os.symlink(shutil.which("redis-check-rdb"), binary)  # type: ignore[arg-type]
    if binary is None:
        pytest.skip("plain Redis not installed (apt-get install redis-tools): the module-missing error is untested")
    port = free_port()
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(data)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(200):
            if ping(url) or proc.poll() is not None:
                break
            time.sleep(0.05)
        if not ping(url):
            pytest.fail(f"plain redis-server {binary} did not start on port {port}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
