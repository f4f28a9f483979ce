"""The shared embedded Redis Stack of a data folder: started or joined, stopped, and stopped when idle.

Every nexa process on the machine (CLI runs, a server and its workers, Studio, notebooks) that uses a data folder
shares that folder's one server, and no process owns it: it runs detached (providers/services/redis_launch.py), is recorded
in the folder (providers/services/redis_folder.py) and found there by the next process, which checks that it answers PING
and serves this folder before using it; a record left by a dead server is replaced. It persists with AOF: a stop
or a killed server loses no acknowledged checkpoint (an OS crash at most the last second, appendfsync everysec).

When it stops: on `nexa services stop` (or `stop_server()`/`EmbeddedRedis.stop()` for tests and fixtures), and when
it has been idle for NEXA_REDIS_IDLE_MINUTES (default 30; 0 = never) -- idle meaning no client connection other than
nexa's own tooling and no process looking it up, for the whole period. Why this rule:
- Connections, not commands: a run holds its checkpointer's connection from start to end, also while a section
  waits minutes on a slow local model; counting commands would stop the server under such a run.
- A grace period, not "the last client out stops it": CLI runs come seconds apart and would each pay a restart (an
  AOF reload that grows with the checkpoints), and a last client that is SIGKILLed could never stop it at all.
- A separate, detached reaper process, not a thread in the starter: the starter may exit or be killed first; the
  reaper is as independent as the server. It is small (no package import) and one per folder.
- 30 minutes is well above the gap between runs or a plan review, and well below leaving a process and a port
  held for days; long-lived servers that would rather stop it explicitly set 0.
Lookups are counted as use and the reaper's final check takes the folder's lock exclusively, so no process can be
handed the URL of a server that is about to stop. A process that used the server after it stopped asks again: the
next lookup restarts it (on the same port when free, so a long-lived client's URL stays valid).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from nexa_research.errors import ServiceStartError
from nexa_research.providers.services.openssl import find_libssl11
from nexa_research.providers.services.redis_folder import (
    LockTimeout,
    ServerRecord,
    answers,
    is_running,
    locked,
    other_clients,
    read_record,
    reaper_pid,
    remove_record,
    server_pids,
    serves_folder,
    shutdown,
    tool_client,
    touch_last_use,
    write_record,
)
from nexa_research.providers.services.redis_launch import LOG, free_port, launch, spawn_reaper
from nexa_research.providers.settings import ProviderSettings

logger = logging.getLogger(__name__)


class EmbeddedRedisSettings(BaseSettings):
    """How the embedded Redis Stack runs (read when a process has to start it)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    idle_minutes: float = Field(
        default=30.0, ge=0, validation_alias=AliasChoices("NEXA_REDIS_IDLE_MINUTES"),
        description="Stop the embedded Redis after this many minutes without clients; 0 = never.",
    )  # fmt: skip


@contextmanager
def _folder_lock(folder: Path, *, exclusive: bool, timeout: float) -> Iterator[None]:
    try:
        with locked(folder, exclusive=exclusive, timeout=timeout):
            yield
    except LockTimeout as exc:
        raise ServiceStartError(str(exc)) from exc


def ensure_server(
    folder: Path,
    *,
    find_libs: Callable[[], Path | None],
    idle_minutes: float,
    port: int | None = None,
    timeout: float = 30.0,
) -> tuple[ServerRecord, bool]:
    """The server of `folder`, started when none answers; (record, whether this call started it).

    `find_libs` (OpenSSL 1.1) is only called when a server has to be started; it must not install anything.
    Of two processes starting at once, the second waits on the lock and then uses the first one's server.
    """
    folder = folder.absolute()  # the server's --dir, compared with what it reports
    folder.mkdir(parents=True, exist_ok=True)
    started = False
    with _folder_lock(folder, exclusive=False, timeout=timeout + 10):
        record = _serving(folder)
        if record is not None:
            touch_last_use(folder)
    if record is None:
        with _folder_lock(folder, exclusive=True, timeout=timeout + 10):
            record = _serving(folder)
            if record is None:
                record, started = _start(folder, find_libs, idle_minutes, port, timeout), True
            touch_last_use(folder)
    if record.idle_minutes > 0 and reaper_pid(folder) is None:
        _start_reaper(folder)
    return record, started


def _start_reaper(folder: Path, timeout: float = 10.0) -> None:
    """Spawn the idle reaper and wait until it watches (holds reaper.lock), so that a stop right after sees it."""
    pid = spawn_reaper(folder)
    deadline = time.monotonic() + timeout
    while reaper_pid(folder) is None:
        if not is_running(pid) or time.monotonic() > deadline:
            logger.warning("the idle reaper of %s did not start (see %s): the server will not stop when idle; "
                           "`nexa services stop` stops it", folder, folder / LOG)  # fmt: skip
            return
        time.sleep(0.02)


def _serving(folder: Path) -> ServerRecord | None:
    record = read_record(folder)
    return record if record is not None and answers(record.url, folder) else None


def _start(
    folder: Path, find_libs: Callable[[], Path | None], idle_minutes: float, port: int | None, timeout: float
) -> ServerRecord:
    """Start the folder's server; the caller holds the exclusive lock, so nobody else starts or stops it meanwhile."""
    stale = read_record(folder)
    if stale is not None and serves_folder(stale.pid, folder):  # alive but silent: loading a large AOF, or hung
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers(stale.url, folder):
                return stale
            time.sleep(0.1)
        raise ServiceStartError(
            f"redis-server pid {stale.pid} serves {folder} but has not answered on {stale.url} for {timeout:.0f} s; "
            "stop it with `nexa services stop` and retry"
        )
    strays = server_pids(folder)
    if strays:
        raise ServiceStartError(
            f"redis-server pid {strays[0]} already serves {folder} without a record there (started by an older "
            f"nexa or by hand); stop it (kill {strays[0]}) so that two servers never append to one AOF"
        )
    lib_dir = find_libs()
    ports = [port] if port else [stale.port if stale else free_port(), free_port(), free_port()]
    for candidate in ports:  # a free port can be taken between our probe and the server's bind
        record = launch(folder, candidate, lib_dir=lib_dir, idle_minutes=idle_minutes, timeout=timeout)
        if record is not None:
            write_record(folder, record)
            return record
    raise ServiceStartError(f"Redis Stack could not bind a port on 127.0.0.1; see {folder / LOG}")


def stop_server(folder: Path, timeout: float = 30.0) -> ServerRecord | None:
    """Stop the folder's server and its idle reaper; return what was stopped (None when nothing ran)."""
    if not folder.is_dir():
        return None
    with _folder_lock(folder, exclusive=True, timeout=timeout + 10):
        reaper = reaper_pid(folder)
        if reaper is not None:
            try:
                os.kill(reaper, signal.SIGTERM)
            except ProcessLookupError:
                reaper = None  # it ended on its own between the look and the signal
        record = read_record(folder)
        if record is not None and not serves_folder(record.pid, folder):
            record = None  # a stale record: nothing to stop
        if record is not None:
            shutdown(record, folder, timeout)
        remove_record(folder)
    deadline = time.monotonic() + 5
    while reaper is not None and reaper_pid(folder) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return record


@dataclass(frozen=True)
class ServerStatus:
    record: ServerRecord
    uptime_seconds: int
    clients: int  # connections besides nexa's own tooling
    used_memory: str
    reaper_pid: int | None


def server_status(folder: Path) -> ServerStatus | None:
    """What the folder's server is doing, or None when none answers (a stale record does not count)."""
    record = read_record(folder) if folder.is_dir() else None
    if record is None or not answers(record.url, folder):
        return None
    client = tool_client(record.url)
    try:
        info = client.info()
    finally:
        client.close()
    return ServerStatus(record, int(info["uptime_in_seconds"]), other_clients(record.url),
                        str(info["used_memory_human"]), reaper_pid(folder))  # fmt: skip


class EmbeddedRedis:
    """The embedded Redis Stack of one data folder: `start()` starts or joins it and returns its URL, `stop()` ends it.

    `lib_dir` is the OpenSSL 1.1 folder (None: look it up, which never fetches); `started` says whether this object
    launched the server or joined one that was already running.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        lib_dir: Path | None = None,
        port: int | None = None,
        idle_minutes: float | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.lib_dir, self.port, self.startup_timeout = lib_dir, port, startup_timeout
        self.idle_minutes = EmbeddedRedisSettings().idle_minutes if idle_minutes is None else idle_minutes
        self.url: str | None = None
        self.started = False

    def start(self) -> str:
        record, self.started = ensure_server(
            self.data_dir, find_libs=self._find_libs, idle_minutes=self.idle_minutes, port=self.port,
            timeout=self.startup_timeout,
        )  # fmt: skip
        self.url = record.url
        return record.url

    def _find_libs(self) -> Path | None:
        return self.lib_dir if self.lib_dir is not None else find_libssl11(ProviderSettings.load())

    def stop(self) -> None:
        """Stop the folder's server (its AOF is fsynced on the way out). Safe to call twice."""
        stop_server(self.data_dir)
        self.url = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def embedded_folder(settings: ProviderSettings) -> Path:
    return settings.resolved_data_dir / "redis"
