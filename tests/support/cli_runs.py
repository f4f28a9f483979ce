"""The `nexa` command run as a user runs it (a subprocess of this interpreter), and the environment the CLI tests
give it: a scripted model server, the small Wikipedia knowledge base, the session's Redis Stack."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from support.research_stub import research_answers

NEXA = [sys.executable, "-m", "nexa_research.cli"]


def nexa(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*NEXA, *args], env=env, capture_output=True, text=True, timeout=timeout)


def cli_environment(serve: Any, data_dir: Any, redis_url: str) -> dict[str, str]:
    stub = serve(respond=research_answers)
    return {
        **os.environ,
        "NEXA_LLM_BASE_URL": stub.base_url,
        "NEXA_DATA_DIR": str(data_dir),
        "REDIS_URL": redis_url,
        "NEXA_CHECKPOINTER": "redis",
        "NEXA_CACHE": "false",
        "NEXA_RETRY_WAIT_SECONDS": "0",
        "NEXA_MIN_RELEVANCE": "-1",  # CLI machinery over a small corpus subset: no relevance gate
        "COLUMNS": "200",
    }
