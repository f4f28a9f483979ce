"""`nexa services start|status|stop` over a real embedded Redis Stack and local model server in a temporary data
folder (the model server on a small spec: 512 tokens a slot, 2 slots, 1 thread)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from nexa_research.cli import app
from nexa_research.providers.llm.local_server import local_server
from nexa_research.providers.llm.model_folder import host_pids
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
    assert code == 1 and json.loads(out) == {"running": False, "dir": str(embedded_data_dir / "redis"), "local_llm": []}


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


def test_the_local_model_server_is_started_shown_and_stopped_with_redis(
    embedded_data_dir: Path, isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (embedded_data_dir / "models").symlink_to(isolated_data_dir / "models", target_is_directory=True)
    for name, value in (("NEXA_LOCAL_CTX", "512"), ("NEXA_LOCAL_PARALLEL", "2"), ("NEXA_LOCAL_THREADS", "1"),
                        ("NEXA_LOCAL_IDLE_MINUTES", "20")):  # fmt: skip
        monkeypatch.setenv(name, value)
    code, out, _ = nexa("services", "status")
    assert "local model server: not running" in out
    code, out, _ = nexa("services", "start", "--llm")
    assert code == 0, out
    redis_url, model_url = out.split()
    server = local_server(ProviderSettings.load())  # what a run is handed
    assert model_url == server.base_url

    code, out, _ = nexa("services", "status")
    assert code == 0 and f"url      {model_url}" in out and f"pid      {server.record.pid}" in out
    assert "size     2 slots x 512 ctx, 1 threads" in out and "requests 0 in flight" in out
    assert "stops    after 20 idle minutes" in out
    code, out, _ = nexa("services", "status", "--json")
    (model,) = json.loads(out)["local_llm"]
    assert model["pid"] == server.record.pid and model["base_url"] == model_url and model["slots"] == 2
    assert server.api_key not in out, "status never shows the key"

    code, out, _ = nexa("services", "stop")
    assert code == 0 and f"local model server: stopped (pid {server.record.pid}, {model_url}" in out
    assert "embedded Redis: stopped" in out and not ping(redis_url)
    assert host_pids(server.spec.folder(embedded_data_dir / "local-llm")) == []
    code, out, _ = nexa("services", "stop")
    assert "local model server: was not running" in out
