"""`nexa services start|status|stop` over a real embedded Redis Stack in a temporary data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from nexa_research.cli import app
from nexa_research.providers.services.redis_folder import read_record, server_pids
from nexa_research.providers.services.redis_server import ensure_redis_url, ping
from nexa_research.providers.settings import ProviderSettings

pytestmark = pytest.mark.redis


def nexa(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_status_and_stop_of_the_shared_server(embedded_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = nexa("services", "status")
    assert code == 1 and "not running" in out

    monkeypatch.setenv("NEXA_REDIS_IDLE_MINUTES", "45")
    url = ensure_redis_url(ProviderSettings.load())  # as a run would start it
    run = redis.Redis.from_url(url)
    run.ping()  # one client besides nexa's own tooling
    code, out, _ = nexa("services", "status")
    pid = read_record(embedded_data_dir / "redis").pid  # type: ignore[union-attr]
    assert code == 0, out
    assert f"url      {url}" in out and f"pid      {pid}" in out
    assert "clients  1" in out and "uptime   0m0" in out and "after 45 idle minutes (reaper pid" in out
    code, out, _ = nexa("services", "status", "--json")
    state = json.loads(out)
    assert state["running"] and state["url"] == url and state["pid"] == pid and state["clients"] == 1
    run.close()

    code, out, _ = nexa("services", "stop")
    assert code == 0 and f"stopped (pid {pid}, {url}" in out
    assert not ping(url) and not server_pids(embedded_data_dir / "redis")
    code, out, _ = nexa("services", "stop")
    assert code == 0 and "was not running" in out
    code, out, _ = nexa("services", "status", "--json")
    assert code == 1 and json.loads(out) == {"running": False, "dir": str(embedded_data_dir / "redis")}


def test_start_prints_the_url_and_a_second_start_finds_the_same_server(embedded_data_dir: Path) -> None:
    code, out, _ = nexa("services", "start", "--idle-minutes", "0")
    assert code == 0, out
    url = out.strip()
    assert ping(url)
    code, again, err = nexa("services", "start")
    assert code == 0 and again.strip() == url and "already running" in err
    code, out, _ = nexa("services", "status")
    assert "never (idle stop off)" in out
    # what runs use is that server
    assert ensure_redis_url(ProviderSettings.load()) == url


def test_status_says_when_runs_use_redis_url_instead(embedded_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6379/0")
    code, out, err = nexa("services", "status")
    assert code == 1 and "REDIS_URL is set" in err and "not running" in out
