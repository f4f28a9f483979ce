"""A shared local model host's entry in the data folder: how every process finds it, although none owns it.

One folder per server spec, `<data>/local-llm/<model>-<hash>/` (providers/llm/model_launch.py names it), holds:
  host.json   the running host: pid, URL, API key, spec, idle minutes, start time. The host writes it once llama.cpp
              answers /health, replacing it atomically, with mode 0600: it holds the key, and the key is what keeps
              other local users and web pages off the model (llama.cpp answers any origin with CORS "*").
  host.lock   flock: shared while a process looks the host up, exclusive while one starts or stops it and while the
              host makes its final idle check, so no process is handed the URL of a host that is about to exit.
              Its mtime is the last lookup (set under the shared lock): the idle rule counts a lookup as use.
  host.log    the host's output: llama.cpp's own log and why the host stopped.

The host process (providers/llm/model_host.py) loads this module by its path, which is why it imports only the
standard library: importing the package would cost the host about 2 s of CPU and 100 MB before the model loads.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

RECORD, LOCK, LOG = "host.json", "host.lock", "host.log"
HOST_SCRIPT = "model_host.py"  # how a host's command line is recognised (with its folder)
KEY_ENV = "NEXA_LOCAL_HOST_KEY"  # the key reaches the host in its environment: a command line is world-readable


class LockTimeout(TimeoutError):
    """host.lock stayed held longer than the caller would wait."""


@dataclass(frozen=True)
class HostRecord:
    """A running host. `url` is llama.cpp's root (`http://127.0.0.1:PORT`); the OpenAI base URL adds `/v1`."""

    pid: int
    url: str
    api_key: str = field(repr=False)  # out of logs and tracebacks
    model: str
    ctx_per_slot: int
    parallel: int
    threads: int
    idle_minutes: float
    started_at: float

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def read_record(folder: Path) -> HostRecord | None:
    """The recorded host, or None when there is no record or the file is not one (a half-written file never is:
    records are replaced atomically)."""
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    names = {f.name for f in fields(HostRecord)}
    if not isinstance(data, dict) or set(data) != names:
        return None
    return HostRecord(**data)


def write_record(folder: Path, record: HostRecord) -> None:
    """Write the record readable by its owner only (it holds the key); readers see the old file or the new one."""
    partial = folder / f".{RECORD}.{os.getpid()}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(record), out)
    os.replace(partial, folder / RECORD)


def remove_record(folder: Path) -> None:
    (folder / RECORD).unlink(missing_ok=True)


@contextmanager
def locked(folder: Path, *, exclusive: bool, timeout: float) -> Iterator[None]:
    """Hold host.lock, shared or exclusive; `LockTimeout` when another process keeps it longer than `timeout`."""
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        give_up = time.monotonic() + timeout
        while not _try_flock(fd, mode):
            if time.monotonic() > give_up:
                raise LockTimeout(f"{folder / LOCK} stayed locked for {timeout:.0f} s: another process is starting or "
                                  "stopping the local model server and has not finished")  # fmt: skip
            time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # which releases the lock


def _try_flock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def note_lookup(folder: Path) -> None:
    """Date the lock file now: a process has just been handed the host (call it under the lock)."""
    os.utime(folder / LOCK)


def last_lookup(folder: Path) -> float:
    """When a process was last handed the host; the lock file exists from the first lookup on."""
    return (folder / LOCK).stat().st_mtime


def hosts_folder(pid: int, folder: Path) -> bool:
    """`pid` is a live model host of `folder`: its command line runs the host script on this folder.

    This survives pid reuse (a recycled pid runs something else), and a zombie has an empty command line.
    """
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(arg.endswith(HOST_SCRIPT.encode()) for arg in args) and os.fsencode(folder) in args


def host_pids(folder: Path) -> list[int]:
    """Every live host of `folder`, recorded or not (one whose starter died before it wrote its record)."""
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and hosts_folder(int(entry.name), folder)]  # fmt: skip


def get(url: str, api_key: str | None = None, timeout: float = 2.0) -> tuple[int, str]:
    """(HTTP status, body) of a GET to the host; status 0 when nothing answered."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def parse_metrics(text: str) -> dict[str, float]:
    """llama.cpp's Prometheus text as {name: value} (`llamacpp:requests_processing`, `llamacpp:n_decode_total`...)."""
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name and not name.startswith("#") and value:
            values[name] = float(value)
    return values


def in_flight(metrics: dict[str, float]) -> int:
    """Requests being answered or waiting for a free slot."""
    return int(metrics.get("llamacpp:requests_processing", 0) + metrics.get("llamacpp:requests_deferred", 0))
