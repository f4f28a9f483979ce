"""Shared test setup: no test reaches a hosted API or the user's own data folder by accident.

Every test runs with NEXA_DATA_DIR set to one temporary folder for the session. The user's assembled model and
OpenSSL 1.1 libraries are linked into it (read-only use), so nothing 491 MB large is rebuilt per session, while
knowledge bases, Redis data and memory collections written by tests never touch the real data folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nexa_research.providers.settings import default_data_dir

pytest_plugins = [
    "support.redis_fixtures", "support.kb_fixtures", "support.openai_stub", "support.server_harness", "support.langsmith_stub",
    "support.research_stub",
]

SHARED_FROM_USER_DATA = ("models", "openssl11")


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
