"""Shared test setup: no test may reach a hosted API by accident, and tests run with quick retries."""

from __future__ import annotations

import pytest

pytest_plugins = ["redis_fixtures"]


@pytest.fixture(autouse=True)
def _no_hosted_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "EXA_API_KEY", "NEXA_LLM_BASE_URL", "LANGSMITH_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("NEXA_RETRY_WAIT_SECONDS", "0")
    # Unit tests keep checkpoints in memory and use no cache; Redis tests opt in with `redis_run_env`.
    monkeypatch.setenv("NEXA_CHECKPOINTER", "memory")
    monkeypatch.setenv("NEXA_CACHE", "false")
