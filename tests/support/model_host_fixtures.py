"""Shared local model servers started by tests: a data folder for them, and none left running after the session.

A model host is detached (providers/llm/model_launch.py) and stops only when idle (10 minutes by default) or when
told, so a test session that used the local model would otherwise leave a ~1 GB process behind per data folder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexa_research.providers.llm.model_folder import LOCK, host_pids
from nexa_research.providers.llm.model_launch import stop_host


@pytest.fixture(scope="session", autouse=True)
def _no_model_host_outlives_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    for lock in tmp_path_factory.getbasetemp().rglob(LOCK):
        stop_host(lock.parent)


@pytest.fixture
def model_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_data_dir: Path) -> Iterator[Path]:
    """A fresh NEXA_DATA_DIR (the session's models linked in) with a small, quick model server spec (512 tokens a
    slot, 2 slots, 1 thread); afterwards every host under it is stopped and none may be left."""
    data = (tmp_path / "data").resolve()
    data.mkdir()
    (data / "models").symlink_to(isolated_data_dir / "models", target_is_directory=True)
    monkeypatch.setenv("NEXA_DATA_DIR", str(data))
    for name, value in (("NEXA_LOCAL_CTX", "512"), ("NEXA_LOCAL_PARALLEL", "2"), ("NEXA_LOCAL_THREADS", "1")):
        monkeypatch.setenv(name, value)
    yield data
    folders = [lock.parent for lock in data.rglob(LOCK)]
    for folder in folders:
        stop_host(folder)
    deadline = time.monotonic() + 5
    while any(host_pids(f) for f in folders) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for f in folders for pid in host_pids(f)] == []
