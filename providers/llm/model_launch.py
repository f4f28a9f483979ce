"""The shared local model server of a data folder: found or started by any process, stopped by hand or when idle.

Every process that uses the embedded default (CLI runs, each worker of `nexa serve`, Studio, notebooks) uses one
llama.cpp host per data folder and server spec, and none owns it. `ensure_host` finds it through the folder's record
(providers/llm/model_folder.py), checks that the recorded pid still runs the host of that folder, and otherwise
starts one detached (providers/llm/model_host.py) under the folder's exclusive lock: of two processes starting at
once, the second waits and uses the first one's. A host that crashed or was killed leaves a stale record; the next
lookup replaces it, on the same port and with the same key when it can, so a long-lived client's URL stays valid.

One host per spec (the model file with its size and date, context per slot, slots, threads): a process that asks for
another model or size gets a host of its own, never silently another model. The defaults are sized to the machine
(a thread per core, four slots per core), so every process on it asks for the same spec and shares one host: slots
let the requests of several runs be batched together, threads beyond the cores only stall each other.

When it stops: `nexa services stop` (`stop_host`), and by itself after NEXA_LOCAL_IDLE_MINUTES (default 10; 0 = never)
without a lookup or a request, never while a request is in flight (the rule is model_host.py's). Ten minutes is far
above the gaps between one run's calls and between the runs of a session, and a restart costs a few seconds of
model loading, while an idle host holds about 1.5 GB of memory (the 0.5B model with 8 slots of 8192 tokens).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nexa_research.errors import ServiceStartError
from nexa_research.providers.llm import model_folder, model_host
from nexa_research.providers.llm.model_file import model_header, resolve_model_path
from nexa_research.providers.llm.model_folder import HostRecord, LockTimeout, hosts_folder, locked, read_record
from nexa_research.providers.services.redis_launch import detach
from nexa_research.providers.settings import ProviderSettings

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 150.0  # the host's own health wait (120 s) plus Python's start on a loaded machine
LOG_ROTATE_BYTES = 5_000_000  # llama.cpp logs every request at debug level: keep one older log beside the current


def machine_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host machine's count)."""
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class LocalServerSpec:
    """What makes two servers interchangeable: same model file, per-slot context, slots and threads."""

    model_path: Path
    ctx_per_slot: int
    parallel: int
    threads: int

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> LocalServerSpec:
        """NEXA_LOCAL_* when set; otherwise a thread per core and four slots per core (at most 16), so that the runs
        of several processes find a free slot while the cores are shared by threads that never outnumber them."""
        path = resolve_model_path(settings).resolve()
        cores = machine_cores()
        threads = settings.local_threads or cores
        parallel = settings.local_parallel or min(16, 4 * cores)
        return cls(path, _fit_ctx(path, settings.local_ctx), parallel, threads)

    def folder(self, root: Path) -> Path:
        """`<root>/<model>-<hash>`: one folder, so one host, per spec. The hash covers the model file's size and date
        too, so a file replaced in place gets a new host instead of the one that still holds the old model."""
        stat = self.model_path.stat()
        identity = [str(self.model_path), stat.st_size, stat.st_mtime_ns, self.ctx_per_slot, self.parallel, self.threads]
        digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:12]
        return root / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', self.model_path.stem)[:60]}-{digest}"

    def served_by(self, record: HostRecord) -> bool:
        return (record.model, record.ctx_per_slot, record.parallel, record.threads) == (
            str(self.model_path), self.ctx_per_slot, self.parallel, self.threads)  # fmt: skip


def _fit_ctx(path: Path, wanted: int) -> int:
    """The per-slot context, capped at what the model was trained for (longer only degrades output)."""
    meta = model_header(path).metadata
    trained = meta.get(f"{meta.get('general.architecture')}.context_length")
    if isinstance(trained, int) and 0 < trained < wanted:
        log_once(f"NEXA_LOCAL_CTX={wanted} exceeds {path.name}'s trained context {trained}; using {trained}")
        return trained
    return wanted


_said: set[str] = set()


def log_once(message: str) -> None:
    """A warning about this process's settings, said once rather than at every lookup (one per model call)."""
    if message not in _said:
        _said.add(message)
        logger.warning(message)


def hosts_root(settings: ProviderSettings) -> Path:
    return settings.resolved_data_dir / "local-llm"


def ensure_host(spec: LocalServerSpec, root: Path, *, idle_minutes: float,
                timeout: float = START_TIMEOUT_S) -> tuple[HostRecord, bool]:  # fmt: skip
    """The host of `spec` under `root`, started when none runs; (record, whether this call started it).

    A lookup counts as use (the host's idle rule); it costs a shared lock, a small file and a look in /proc, cheap
    enough for every model call, which is when runs resolve their endpoints.
    """
    folder = spec.folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with locked(folder, exclusive=False, timeout=timeout + 10):
            record = _serving(folder, spec)
            if record is not None:
                model_folder.note_lookup(folder)
                return record, False
        with locked(folder, exclusive=True, timeout=timeout + 10):
            record = _serving(folder, spec)
            started = record is None
            if record is None:
                record = _start(folder, spec, idle_minutes, timeout)
            model_folder.note_lookup(folder)
    except LockTimeout as exc:
        raise ServiceStartError(str(exc)) from exc
    if started:
        others = [str(r.pid) for f, r in live_hosts(root) if f != folder]
        if others:
            logger.warning("other local model servers run on this data folder (pid %s) with other settings: they share "
                           "the cores; `nexa services stop` stops them all", ", ".join(others))  # fmt: skip
    return record, started


def _serving(folder: Path, spec: LocalServerSpec) -> HostRecord | None:
    record = read_record(folder)
    if record is None or not hosts_folder(record.pid, folder):
        return None
    if not spec.served_by(record):  # the folder is named by the spec: only a hand-edited record gets here
        raise ServiceStartError(f"the local model server recorded in {folder} serves {record.model} with other "
                                f"settings than {spec}; stop it with `nexa services stop`")  # fmt: skip
    return record


def _start(folder: Path, spec: LocalServerSpec, idle_minutes: float, timeout: float) -> HostRecord:
    """Launch the folder's host and wait for its record; the caller holds the exclusive lock."""
    stale = read_record(folder)
    for pid in model_folder.host_pids(folder):  # alive without a record: its starter died before the host wrote one
        logger.warning("stopping local model server pid %s of %s: it has no record, so nobody can use it", pid, folder)
        _terminate(pid, folder)
    log = folder / model_folder.LOG
    if log.exists() and log.stat().st_size > LOG_ROTATE_BYTES:
        log.replace(log.with_name(f"{log.name}.1"))
    offset = log.stat().st_size if log.exists() else 0
    args = [sys.executable, "-P", model_host.__file__, str(folder), "--model", str(spec.model_path),
            "--ctx", str(spec.ctx_per_slot), "--parallel", str(spec.parallel), "--threads", str(spec.threads),
            "--idle-minutes", repr(idle_minutes), "--port", str(stale.port if stale else 0),
            "--verbosity", "3" if logger.isEnabledFor(logging.DEBUG) else "1"]  # fmt: skip
    key = stale.api_key if stale else secrets.token_urlsafe(24)
    started = time.monotonic()
    pid = detach(args, log, {**os.environ, model_folder.KEY_ENV: key})
    while time.monotonic() - started < timeout:
        record = read_record(folder)
        if record is not None and record.pid == pid:
            logger.info("local model server %s started on %s (pid %s, %d slots x %d ctx, %d threads) in %.1f s",
                        spec.model_path.name, record.url, pid, spec.parallel, spec.ctx_per_slot, spec.threads,
                        time.monotonic() - started)  # fmt: skip
            return record
        if exited(pid):
            tail = log.read_bytes()[offset:].decode(errors="replace").strip()[-1500:]
            raise ServiceStartError(
                f"the local model server did not start with model {spec.model_path} on 127.0.0.1 (set "
                f"NEXA_LOCAL_MODEL to another .gguf, or lower NEXA_LOCAL_CTX / NEXA_LOCAL_PARALLEL); its log ({log}):\n{tail}"
            )
        time.sleep(0.05)
    _terminate(pid, folder)
    raise ServiceStartError(f"the local model server for {spec.model_path} did not start within {timeout:.0f} s; "
                            f"see {log}")  # fmt: skip


def _terminate(pid: int, folder: Path, timeout: float = 10.0) -> None:
    """SIGTERM (the host holds nothing to save), then SIGKILL if it is still there after `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while not exited(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if exited(pid):
            return
        logger.warning("local model server pid %s still runs %.0f s after %s", pid, timeout, sig.name)


def exited(pid: int) -> bool:
    """No thread of `pid` runs any more. The leader of a killed process is a zombie while its other threads still
    exit, holding the port, the model's memory and the end of its log: its own state alone says too early."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return True
    for tid in threads:
        try:
            state = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rpartition(")")[2].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state not in ("Z", "X"):
            return False
    return True


def stop_host(folder: Path, timeout: float = 30.0) -> HostRecord | None:
    """Stop the host of `folder`: what was stopped, or None when none ran. Requests in flight fail (their runs' retry
    policy decides what comes next: a later call finds no host and starts one)."""
    if not folder.is_dir():
        return None
    try:
        with locked(folder, exclusive=True, timeout=timeout + 10):
            record = read_record(folder)
            model_folder.remove_record(folder)
            pids = model_folder.host_pids(folder)
            for pid in pids:
                _terminate(pid, folder)
    except LockTimeout as exc:
        raise ServiceStartError(str(exc)) from exc
    return record if record is not None and record.pid in pids else None


def live_hosts(root: Path) -> list[tuple[Path, HostRecord]]:
    """(folder, record) of every running host under `root` (one per spec in use)."""
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        record = read_record(folder)
        if record is not None and hosts_folder(record.pid, folder):
            found.append((folder, record))
    return found


def stop_hosts(root: Path) -> list[HostRecord]:
    """Stop every host under `root`, the live ones and any left without a record."""
    if not root.is_dir():
        return []
    stopped = [stop_host(folder) for folder in sorted(root.iterdir()) if (folder / model_folder.LOCK).exists()]
    return [record for record in stopped if record is not None]


def requests_in_flight(record: HostRecord) -> int | None:
    """Requests the host is answering or holding for a slot (its metrics), or None when it does not answer."""
    status, body = model_folder.get(f"{record.url}/metrics", record.api_key)
    return model_folder.in_flight(model_folder.parse_metrics(body)) if status == 200 else None
