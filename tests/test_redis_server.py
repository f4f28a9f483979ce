"""The embedded Redis Stack: it answers with the modules, persists to its data folder, and never outlives its owner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from nexa_research.errors import ServiceStartError
from nexa_research.providers import openssl_compat, redis_server
from nexa_research.providers.openssl_compat import ensure_libssl11, security_archive
from nexa_research.providers.redis_server import (
    EmbeddedRedis,
    RedisModulesMissingError,
    RedisUnavailableError,
    check_redis_modules,
    ensure_redis_url,
    free_port,
    ping,
    stack_paths,
)
from nexa_research.providers.settings import ProviderSettings

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
    monkeypatch.setattr(openssl_compat, "_system_has", lambda soname: False)
    monkeypatch.setattr(openssl_compat, "APT_RETRIES", 0)
    monkeypatch.setattr(openssl_compat, "security_archive", lambda: (unreachable, None))
    monkeypatch.setenv("NEXA_DATA_DIR", str(tmp_path))
    with pytest.raises(ServiceStartError, match="set REDIS_URL") as caught:
        ensure_libssl11(ProviderSettings.load())
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


def test_a_second_server_on_the_same_folder_is_refused(
    redis_stack: EmbeddedRedis, redis_stack_factory: Callable[..., EmbeddedRedis]
) -> None:
    with pytest.raises(ServiceStartError, match="another process"):
        redis_stack_factory(redis_stack.data_dir).start()
    assert redis_stack.url is not None and ping(redis_stack.url)  # the owner is untouched


def test_server_dies_when_its_owner_is_killed(redis_stack_lib_dir: Path | None, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from nexa_research.providers.redis_server import EmbeddedRedis
        lib = {str(redis_stack_lib_dir)!r}
        server = EmbeddedRedis(Path({str(tmp_path)!r}), lib_dir=Path(lib) if lib != "None" else None)
        print(server.start(), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no finally: only the watchdog can stop the server
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == -9, done.stderr
    url = done.stdout.strip()
    assert url.startswith("redis://127.0.0.1:")
    assert _wait_until(lambda: not ping(url)), f"orphaned Redis still answers on {url}"
    # the lock died with its owner: the folder can be served again, with the data intact
    server = EmbeddedRedis(tmp_path, lib_dir=redis_stack_lib_dir)
    try:
        assert ping(server.start())
    finally:
        server.stop()


def test_ensure_redis_url_prefers_redis_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEXA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6380/2")
    assert ensure_redis_url(ProviderSettings.load()) == "redis://redis.internal:6380/2"
    assert not (tmp_path / "redis").exists()  # nothing embedded was started


def test_ensure_redis_url_starts_one_server_and_other_processes_share_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_stack_lib_dir: Path | None
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("NEXA_DATA_DIR", str(tmp_path))
    if redis_stack_lib_dir is not None:  # reuse the already fetched OpenSSL 1.1 instead of fetching it again
        (tmp_path / "openssl11").symlink_to(redis_stack_lib_dir, target_is_directory=True)
    redis_server.stop_embedded_redis()  # an earlier test's research memory may have started this process's server
    try:
        url = ensure_redis_url(ProviderSettings.load())
        assert ping(url)
        assert ensure_redis_url(ProviderSettings.load()) == url
        assert (tmp_path / "redis" / "appendonlydir").is_dir()
        other = subprocess.run(
            [sys.executable, "-c", "from nexa_research.providers.redis_server import ensure_redis_url as e; "
             "from nexa_research.providers.settings import ProviderSettings as S; print(e(S.load()))"],
            capture_output=True, text=True, timeout=60, env={**os.environ, "NEXA_DATA_DIR": str(tmp_path)},
        )  # fmt: skip
        assert other.stdout.strip() == url, other.stderr
        assert ping(url)  # the sharer exiting does not stop the owner's server
    finally:
        redis_server.stop_embedded_redis()
    assert not ping(url)


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
