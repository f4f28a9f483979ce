"""What the CLI tests share: the environment `nexa` runs in (tests/support/cli_runs.py)."""

from __future__ import annotations

import pytest

from support.cli_runs import cli_environment


@pytest.fixture
def cli_env(serve, wiki_kb_data_dir, redis_stack_url):
    return cli_environment(serve, wiki_kb_data_dir, redis_stack_url)
