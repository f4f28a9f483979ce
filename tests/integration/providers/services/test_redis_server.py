"""The embedded Redis Stack: it answers with the modules, persists to its data folder, is shared by every process
using that folder (outliving the one that started it), stops on request or when idle, and is set up only by
`nexa setup`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from nexa_research.cli import setup_openssl
from nexa_research.cli.setup_openssl import fetch_libssl11, security_archive
from nexa_research.errors import ServiceStartError
from nexa_research.providers.services import openssl
from nexa_research.providers.services.redis_embedded import EmbeddedRedis, server_status, stop_server
from nexa_research.providers.services.redis_folder import read_record, server_pids
from nexa_research.providers.services.redis_launch import DOC_TABLE_SLOTS, free_port, stack_paths
from nexa_research.providers.services.redis_server import (
    RedisModulesMissingError,
    RedisUnavailableError,
    check_redis_modules,
    ensure_redis_url,
    ping,
)
from nexa_research.providers.settings import ProviderSettings
from support.redis_fixtures import service_processes

pytestmark = pytest.mark.redis


def _wait_until(predicate: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_openssl11_lets_the_server_binary_resolve_its_libraries(redis_stack_lib_dir: Path | None) -> None:
    binary, _ = stack_paths()
    env = dict(os.environ)
    if redis_stack_lib_dir is not None:
        env["LD_LIBRARY_PATH"] = str(redis_stack_lib_dir)
    linked = subprocess.run(["ldd", str(binary)], env=env, capture_output=True, text=True, check=True).stdout
    assert "libssl.so.1.1 =>" in linked
    assert "not found" not in linked


def test_security_archive_comes_from_the_machines_own_sources(tmp_path: Path) -> None:
    sources_d = tmp_path / "sources.list.d"
    sources_d.mkdir()
    (sources_d / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian-security/\nSuites: bookworm-security\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
    assert security_archive((sources_d,)) == (
        "http://mirror.example/debian-security",
        "/usr/share/keyrings/debian-archive-keyring.gpg",
    )
    one_line = tmp_path / "sources.list"
    one_line.write_text("deb http://a.example/debian bookworm main\ndeb http://sec.example/ bookworm-security main\n")
    assert security_archive((one_line,)) == ("http://sec.example", None)
    one_line.write_text("deb http://a.example/debian bookworm main\n")
    with pytest.raises(ServiceStartError, match="REDIS_URL"):
        security_archive((one_line,))


def test_without_the_debian_archive_setup_says_to_set_redis_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/debian-security"
    monkeypatch.setattr(openssl, "_system_has", lambda soname: False)
    monkeypatch.setattr(setup_openssl, "APT_RETRIES", 0)
    monkeypatch.setattr(setup_openssl, "security_archive", lambda: (unreachable, None))
    monkeypatch.setenv("NEXA_DATA_DIR", str(tmp_path))
    with pytest.raises(ServiceStartError, match="set REDIS_URL") as caught:
        fetch_libssl11(ProviderSettings.load())
    assert "127.0.0.1" in str(caught.value)  # names where it tried
    assert not (tmp_path / "openssl11").exists()  # nothing half-unpacked is left to be mistaken for success


def test_embedded_server_answers_with_modules_and_appends_to_its_aof(redis_stack: EmbeddedRedis) -> None:
    assert redis_stack.url is not None
    client = redis.Redis.from_url(redis_stack.url)
    assert client.ping() is True
    check_redis_modules(redis_stack.url)  # raises if RedisJSON or RediSearch is missing
    client.execute_command("JSON.SET", "test:aof-doc", "$", '{"marker": "aof-marker-1234"}')
    assert client.execute_command("JSON.GET", "test:aof-doc", "$.marker") == b'["aof-marker-1234"]'
    aof_dir = redis_stack.data_dir / "appendonlydir"
    assert (aof_dir / "appendonly.aof.manifest").is_file()
    appended = b"".join(p.read_bytes() for p in aof_dir.glob("*.incr.aof"))
    assert b"aof-marker-1234" in appended
    client.close()


def test_search_document_table_is_bounded(redis_stack: EmbeddedRedis) -> None:
    """Every finished run's expired checkpoints would otherwise leave their document ids in RediSearch's table for
    good (bench/server.md): the embedded server caps the table."""
    client = redis.Redis.from_url(redis_stack.url or "")
    reply = client.execute_command("FT.CONFIG", "GET", "MAXDOCTABLESIZE")
    assert reply == {b"MAXDOCTABLESIZE": str(DOC_TABLE_SLOTS).encode()}
    client.close()


def test_server_binds_loopback_only(redis_stack_url: str) -> None:
    client = redis.Redis.from_url(redis_stack_url)
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    assert client.config_get("protected-mode")["protected-mode"] == "yes"
    client.close()


def test_data_survives_a_restart_and_stop_ends_the_server(
    redis_stack_factory: Callable[..., EmbeddedRedis], tmp_path: Path
) -> None:
    first = redis_stack_factory(tmp_path)
    url = first.start()
    redis.Redis.from_url(url).set("test:persisted", "still here")
    first.stop()
    assert first.url is None
    assert not ping(url)

    second = redis_stack_factory(tmp_path)
    url = second.start()
    assert redis.Redis.from_url(url).get("test:persisted") == b"still here"
    second.stop()


def test_a_second_starter_on_the_same_folder_joins_the_running_server(
    redis_stack: EmbeddedRedis, redis_stack_factory: Callable[..., EmbeddedRedis]
) -> None:
    second = redis_stack_factory(redis_stack.data_dir)
    assert second.start() == redis_stack.url
    assert redis_stack.started and not second.started
    assert len(server_pids(redis_stack.data_dir)) == 1


def _start_in_subprocess(data: Path, *then: str) -> subprocess.CompletedProcess[str]:
    """`ensure_redis_url` in a fresh process on `data`; prints the URL, then runs the statements in `then`."""
    script = "\n".join([
        "from nexa_research.providers.services.redis_server import ensure_redis_url",
        "from nexa_research.providers.settings import ProviderSettings",
        "print(ensure_redis_url(ProviderSettings.load()), flush=True)", *then,
    ])  # fmt: skip
    env = {**os.environ, "NEXA_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90, env=env)


def test_the_server_outlives_the_process_that_started_it(embedded_data_dir: Path) -> None:
    done = _start_in_subprocess(embedded_data_dir, "import os, signal", "os.kill(os.getpid(), signal.SIGKILL)")
    assert done.returncode == -9, done.stderr
    url = done.stdout.strip()
    redis.Redis.from_url(url).set("test:survives", "yes")
    time.sleep(0.5)
    assert ping(url), "the server died with the process that started it"
    # a later process finds it through the data folder instead of starting a second one
    assert ensure_redis_url(ProviderSettings.load()) == url
    assert len(server_pids(embedded_data_dir / "redis")) == 1
    assert stop_server(embedded_data_dir / "redis") is not None
    assert not ping(url)


def test_racing_starters_get_one_server(embedded_data_dir: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    script = (
        "import time, pathlib\n"
        "from nexa_research.providers.services.redis_embedded import EmbeddedRedis\n"
        "print('ready', flush=True)\n"
        f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.005)\n"
        f"s = EmbeddedRedis(pathlib.Path({str(embedded_data_dir / 'redis')!r}))\n"
        "print(s.start(), s.started)\n"
    )
    env = {**os.environ, "NEXA_DATA_DIR": str(embedded_data_dir)}
    racers = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
    assert [racer.stdout.readline().strip() for racer in racers] == ["ready"] * 3  # type: ignore[union-attr]
    go.touch()
    results = [racer.communicate(timeout=90) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers), [err for _, err in results]
    answers = [out.split() for out, _ in results]
    assert len({url for url, _ in answers}) == 1, answers
    assert sorted(started for _, started in answers) == ["False", "False", "True"]
    assert len(server_pids(embedded_data_dir / "redis")) == 1
    assert ping(answers[0][0]), "the server must outlive the racers that started it"


def test_a_stale_record_of_a_dead_server_is_replaced(embedded_data_dir: Path) -> None:
    folder = embedded_data_dir / "redis"
    first = ensure_redis_url(ProviderSettings.load())
    redis.Redis.from_url(first).set("test:kept", "1")
    record = read_record(folder)
    assert record is not None
    os.kill(record.pid, 9)  # a crash: the record stays behind
    assert _wait_until(lambda: not server_pids(folder))
    assert read_record(folder) == record
    again = ensure_redis_url(ProviderSettings.load())
    assert again == first  # restarted on the recorded port, so clients holding the URL reconnect
    assert read_record(folder).pid != record.pid
    assert redis.Redis.from_url(again).get("test:kept") == b"1"  # acknowledged writes were in the AOF
    # a record written by an older nexa ({"pid", "url"} of its owning process) is stale too
    stop_server(folder)
    (folder / "server.json").write_text('{"pid": 1, "url": "redis://127.0.0.1:1/0"}')
    assert ping(ensure_redis_url(ProviderSettings.load()))


def test_the_server_stops_when_idle_and_not_while_a_client_is_connected(
    embedded_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXA_REDIS_IDLE_MINUTES", "0.04")  # 2.4 s, looked at every 0.5 s
    folder = embedded_data_dir / "redis"
    url = ensure_redis_url(ProviderSettings.load())
    state = server_status(folder)
    assert state is not None and state.reaper_pid is not None and state.record.idle_minutes == 0.04
    run = redis.Redis.from_url(url)
    run.set("test:idle", "1")  # a run holding its connection, idle for longer than the idle period
    time.sleep(4.0)
    assert ping(url), "stopped while a client was connected"
    run.close()
    assert _wait_until(lambda: read_record(folder) is None and not server_pids(folder), seconds=15), \
        "still running long after its last client left"
    assert not ping(url)
    assert _wait_until(lambda: not service_processes(embedded_data_dir)), "the reaper did not end with its server"
    # the next lookup starts it again, data intact
    monkeypatch.setenv("NEXA_REDIS_IDLE_MINUTES", "0")
    assert redis.Redis.from_url(ensure_redis_url(ProviderSettings.load())).get("test:idle") == b"1"


def test_ensure_redis_url_prefers_redis_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEXA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6380/2")
    assert ensure_redis_url(ProviderSettings.load()) == "redis://redis.internal:6380/2"
    assert not (tmp_path / "redis").exists()  # nothing embedded was started


def test_a_port_held_by_another_redis_is_not_mistaken_for_ours(
    plain_redis_url: str, redis_stack_factory: Callable[..., EmbeddedRedis]
) -> None:
    taken = int(plain_redis_url.rsplit(":", 1)[1].split("/")[0])
    server = redis_stack_factory(port=taken)
    with pytest.raises(ServiceStartError, match="could not bind"):
        server.start()
    assert server.url is None
    assert ping(plain_redis_url)  # the other server is left alone


def test_module_check_rejects_plain_redis_with_an_actionable_message(plain_redis_url: str) -> None:
    with pytest.raises(RedisModulesMissingError) as caught:
        check_redis_modules(plain_redis_url)
    message = str(caught.value)
    assert "RedisJSON/RediSearch" in message
    assert plain_redis_url in message
    assert "unset REDIS_URL" in message


def test_module_check_names_an_unreachable_server_without_its_password() -> None:
    url = f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"
    with pytest.raises(RedisUnavailableError) as caught:
        check_redis_modules(url, timeout=0.5)
    assert "127.0.0.1" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
