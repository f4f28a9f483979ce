"""Shared test setup: no test reaches a hosted API or the user's own data folder by accident.

Every test runs with NEXA_DATA_DIR set to one temporary folder for the session. The user's assembled model and
OpenSSL 1.1 libraries are linked into it (read-only use), so nothing 491 MB large is rebuilt per session, while
knowledge bases, Redis data and memory collections written by tests never touch the real data folder.

The layers are folders: tests/unit (in this process: no subprocess, no Redis or other server, no local LLM; loopback
HTTP stand-ins running in a thread of the test process are allowed), tests/integration (real servers, subprocesses,
workers, the local model) and tests/e2e (whole research runs on the embedded defaults). A test is marked
`integration` or `e2e` by its folder, and a unit test that asks for a fixture starting a server is refused at
collection, so `make test-fast` stays fast and needs nothing but this process.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexa_research.providers.settings import default_data_dir

pytest_plugins = [
    "support.redis_fixtures", "support.kb_fixtures", "support.openai_stub", "support.server_harness", "support.langsmith_stub",
    "support.research_stub", "support.model_host_fixtures",
]

SHARED_FROM_USER_DATA = ("models", "openssl11")
TESTS = Path(__file__).resolve().parent
LAYER_MARKS = {TESTS / "integration": "integration", TESTS / "e2e": "e2e"}
# Fixtures that start a Redis server, a cluster of server processes, or fill a knowledge base in one.
SERVER_FIXTURES = frozenset({
    "redis_stack", "redis_stack_url", "redis_stack_factory", "embedded_data_dir", "plain_redis_url",
    "wiki_kb", "wiki_kb_data_dir", "wiki_kb_settings", "wiki_search", "make_kb",
    "server_env", "cluster_factory", "nexa_server", "model_data_dir",
})
# Files whose tests run the local llama.cpp model: never two at once under xdist (see `_one_local_model_at_a_time`).
LOCAL_MODEL_FILES = frozenset({
    TESTS / "e2e" / "test_offline_report.py",
    TESTS / "integration" / "providers" / "llm" / "test_local_server.py",
    TESTS / "integration" / "providers" / "llm" / "test_model_launch.py",
    TESTS / "integration" / "cli" / "test_services.py",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its layer; refuse server fixtures in unit tests."""
    for item in items:
        path = item.path.resolve()
        layer = next((mark for folder, mark in LAYER_MARKS.items() if folder in path.parents), None)
        if layer:
            item.add_marker(getattr(pytest.mark, layer))
        elif servers := SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            raise pytest.UsageError(
                f"{item.nodeid} is a unit test but uses {sorted(servers)}, which start servers: "
                "move it to tests/integration/"
            )


@pytest.fixture(scope="module", autouse=True)
def _one_local_model_at_a_time(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Two llama.cpp servers on two cores make each several times slower (their threads wait for each other at
    every step): under pytest-xdist, a file that runs the model holds a lock shared by the workers while it runs.
    (`--dist loadgroup` would say this with a group, but pytest-xdist 3.8 cannot set groups on pytest 9.2.)"""
    if request.path.resolve() not in LOCAL_MODEL_FILES or "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    lock_path = tmp_path_factory.getbasetemp().parent / "local-model.lock"  # the run's folder, above each worker's
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def isolated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("nexa-data")
    for name in SHARED_FROM_USER_DATA:
        real = default_data_dir() / name
        real.mkdir(parents=True, exist_ok=True)
        (data / name).symlink_to(real, target_is_directory=True)
    return data


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, isolated_data_dir: Path) -> None:
    for var in ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "EXA_API_KEY", "NEXA_LLM_BASE_URL", "LANGSMITH_API_KEY",
                "REDIS_URL", "QDRANT_URL", "NEXA_LOCAL_MODEL", "NEXA_LOCAL_MODEL_NAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEXA_DATA_DIR", str(isolated_data_dir))
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("NEXA_RETRY_WAIT_SECONDS", "0")
    # Unit tests keep checkpoints in memory and use no cache; Redis tests opt in by setting these themselves.
    monkeypatch.setenv("NEXA_CHECKPOINTER", "in_memory")
    monkeypatch.setenv("NEXA_CACHE", "false")
