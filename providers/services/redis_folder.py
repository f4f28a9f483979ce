"""The embedded Redis's data folder is its registry: every process finds the server there, so none must be its parent.

Files beside Redis's own appendonlydir/ and redis-server.log:
  server.json  {pid, port, url, dir, started_at, idle_minutes}, written (atomically) once the server answers PING.
  server.lock  flock, shared while a process looks the server up, exclusive while one starts or stops it: two
               starters never race (the loser waits and uses the winner's server), and an idle stop cannot pull
               the server from under a process that has just been handed its URL.
  last-use     its mtime is the last lookup, touched under the shared lock; the idle rule counts it as use.
  reaper.lock  flock held by the idle reaper while it lives; the file holds the reaper's pid.

Run as a script (`python -P redis_folder.py DATA_DIR`, detached by providers/services/redis_launch.py), it is the idle reaper, which is why it imports only
the standard library and redis-py: importing the package would cost a process that mostly sleeps ~2.5 s of CPU and
~100 MB. The idle rule itself is argued in providers/services/redis_server.py.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

RECORD, LOCK, LAST_USE, REAPER_LOCK = "server.json", "server.lock", "last-use", "reaper.lock"
# Connections of nexa's own tooling (lookups, status, the reaper) carry this name and do not count as use.
TOOL_CLIENT = "nexa-services"
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
logger = logging.getLogger("nexa_research.providers.services.redis_folder")  # also when run as a script


class LockTimeout(TimeoutError):
    """server.lock stayed held longer than the caller would wait."""


@dataclass(frozen=True)
class ServerRecord:
    pid: int
    port: int
    url: str
    dir: str
    started_at: float
    idle_minutes: float


def read_record(folder: Path) -> ServerRecord | None:
    """The recorded server, or None when there is none or the file is not one (a record of an older nexa version,
    which kept its server as its own child: that server died with its owner, so the record is stale either way)."""
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        return ServerRecord(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return None


def write_record(folder: Path, record: ServerRecord) -> None:
    partial = folder / f".{RECORD}.{os.getpid()}"
    partial.write_text(json.dumps(asdict(record)), encoding="utf-8")
    os.replace(partial, folder / RECORD)  # readers see the old record or the new one, never half of one


def remove_record(folder: Path) -> None:
    (folder / RECORD).unlink(missing_ok=True)


@contextmanager
def locked(folder: Path, *, exclusive: bool, timeout: float) -> Iterator[None]:
    """Hold server.lock (shared or exclusive); TimeoutError if another process keeps it longer than `timeout`."""
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{folder / LOCK} stayed locked for {timeout:.0f} s: another process is starting or "
                        "stopping the embedded Redis and has not finished"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def touch_last_use(folder: Path) -> None:
    (folder / LAST_USE).touch()


def last_use(folder: Path) -> float:
    try:
        return (folder / LAST_USE).stat().st_mtime
    except FileNotFoundError:
        return 0.0


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a dead server whose parent has not reaped it yet must not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def serves_folder(pid: int, folder: Path) -> bool:
    """`pid` is a running redis-server whose working folder (Redis chdirs into `--dir`) is `folder`.

    This survives pid reuse: a recycled pid belongs to a process with another name or folder.
    """
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return name == "redis-server" and os.path.realpath(cwd) == os.path.realpath(folder) and is_running(pid)


def server_pids(folder: Path) -> list[int]:
    """Every redis-server serving `folder`, recorded or not (one an older nexa or a person started by hand)."""
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and serves_folder(int(entry.name), folder)]  # fmt: skip


def tool_client(url: str, timeout: float = 1.0) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=None, client_name=TOOL_CLIENT
    )


def answers(url: str, folder: Path, timeout: float = 1.0) -> bool:
    """The server at `url` answers PING (so its AOF is loaded) and serves `folder`, not some other Redis."""
    client = tool_client(url, timeout)
    try:
        served = str(client.config_get("dir").get("dir", "")) if client.ping() else ""
    except UNREACHABLE:
        return False
    finally:
        client.close()
    return bool(served) and os.path.realpath(served) == os.path.realpath(folder)


def other_clients(url: str) -> int:
    """How many connections the server has besides nexa's own tooling: a run holds its checkpointer's for its life."""
    client = tool_client(url)
    try:
        return sum(1 for c in client.client_list() if c.get("name") != TOOL_CLIENT)
    finally:
        client.close()


def shutdown(record: ServerRecord, folder: Path, timeout: float = 30.0) -> None:
    """Stop the server: SHUTDOWN (Redis fsyncs its AOF and exits), then SIGTERM, then SIGKILL if it will not go."""
    client = tool_client(record.url, timeout=5.0)
    try:
        client.shutdown()
    except (*UNREACHABLE, ResponseError) as exc:  # the signals below stop it whether or not it took the command
        logger.warning("SHUTDOWN on %s failed (%s); signalling pid %s", record.url, exc, record.pid)
    finally:
        client.close()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + timeout
        while serves_folder(record.pid, folder) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not serves_folder(record.pid, folder):
            return
        logger.warning("redis-server pid %s still runs after %.0f s; sending %s", record.pid, timeout, sig.name)
        try:
            os.kill(record.pid, sig)
        except ProcessLookupError:
            return  # it ended between the look and the signal


def reaper_pid(folder: Path) -> int | None:
    """The pid of the live idle reaper of `folder`, or None when none holds reaper.lock."""
    path = folder / REAPER_LOCK
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        text = path.read_text().strip()
        return int(text) if text.isdigit() else None
    finally:
        os.close(fd)


def poll_seconds(idle_seconds: float) -> float:
    """Ten looks per idle period, between 0.5 s and 30 s: cheap (one CLIENT LIST) and at most 10% late."""
    return min(30.0, max(0.5, idle_seconds / 10))


def reap_when_idle(folder: Path) -> str:
    """Watch `folder`'s server and stop it once it has been idle for its `idle_minutes`; return why it ended.

    Idle means: no connection but nexa's own tooling and no lookup (last-use) for the whole period. The final check
    runs under the exclusive lock, so no process can be handed the URL between the check and the SHUTDOWN.
    One reaper per folder (reaper.lock); it outlives restarts of the server and ends when the server is gone.
    """
    fd = os.open(folder / REAPER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + 5.0  # a reaper that is just ending may still hold the lock
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return "another reaper watches this folder"
            time.sleep(0.1)
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    last_busy = time.time()
    while True:
        record = read_record(folder)
        if record is None or not serves_folder(record.pid, folder):
            return "the server is gone"
        if record.idle_minutes <= 0:
            return "idle stop is off for this server"
        idle = record.idle_minutes * 60
        time.sleep(poll_seconds(idle))
        try:
            if other_clients(record.url):
                last_busy = time.time()
        except UNREACHABLE:
            last_busy = time.time()  # loading its AOF or overloaded: not idle
        if time.time() - max(last_busy, last_use(folder)) < idle:
            continue
        try:
            with locked(folder, exclusive=True, timeout=1.0):
                if read_record(folder) == record and not other_clients(record.url) \
                        and time.time() - last_use(folder) >= idle:  # fmt: skip
                    shutdown(record, folder)
                    remove_record(folder)
                    return f"stopped the server (pid {record.pid}) after {record.idle_minutes:g} idle minutes"
        except UNREACHABLE:  # the lock is held by a start, stop or lookup (TimeoutError), or the server is busy
            last_busy = time.time()


def main(argv: list[str]) -> None:
    """Reap `argv[1]`'s server (the launcher has detached this process; its output goes to the server log)."""
    folder = Path(argv[1])
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s nexa idle reaper {os.getpid()}: %(message)s")
    logger.info(reap_when_idle(folder))


if __name__ == "__main__":
    main(sys.argv)
