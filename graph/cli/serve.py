"""`nexa serve` (the API under uvicorn, plus N worker processes) and `nexa worker` (one worker).

`nexa serve` works on a fresh machine: without REDIS_URL it starts (or joins) the data folder's embedded Redis
Stack and hands its URL to the workers it starts, so every process shares one Redis. Workers are child
processes running `nexa worker`; they are stopped (SIGTERM: they hand their runs back) when the server stops.
On several machines, run `nexa serve --workers 0` behind a load balancer and `nexa worker` anywhere, all with the
same REDIS_URL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console

from nexa_research.errors import NexaError
from nexa_research.providers.settings import ProviderSettings

console = Console(stderr=True)
PARENT_ENV = "NEXA_SERVE_PARENT_PID"  # set for the workers `nexa serve` starts


def _redis_url() -> str:
    from nexa_research.providers.services.redis_server import ensure_redis_url

    return ensure_redis_url(ProviderSettings.load())


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=0, max=64, help="Worker processes to start (0: workers run elsewhere).")] = 1,
    concurrency: Annotated[int | None, typer.Option(min=1, help="Runs per worker (default NEXA_SERVER_WORKER_CONCURRENCY or 4).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the LangGraph server API and LangServe routes, with worker processes executing the runs."""
    import uvicorn

    try:
        url = _redis_url()
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    env = {**os.environ, "REDIS_URL": url, PARENT_ENV: str(os.getpid()), "NEXA_LOG_LEVEL": log_level.upper()}
    if concurrency is not None:
        env["NEXA_SERVER_WORKER_CONCURRENCY"] = str(concurrency)
    os.environ["REDIS_URL"] = url
    os.environ["NEXA_LOG_LEVEL"] = log_level.upper()
    children = [
        subprocess.Popen([sys.executable, "-m", "nexa_research.cli", "worker"], env=env) for _ in range(workers)
    ]
    console.print(f"nexa-research on http://{host}:{port} (docs at /docs), {workers} worker(s), Redis {url.split('@')[-1]}")
    # uvicorn restores this handler after its graceful shutdown and raises the SIGTERM again: the handler turns it
    # into SystemExit, so `finally` stops the workers and `nexa serve` ends only once they have (without it the
    # signal's default action ended the process at once and the workers noticed a second later, on their own).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        # log_config=None: the app configures logging itself (JSON lines, correlation ids, redaction)
        uvicorn.run("nexa_research.server.app:app", host=host, port=port, log_level=log_level, log_config=None,
                    timeout_graceful_shutdown=10)  # a /runs/wait in flight must not hold a stop forever
    finally:
        stop_processes(children, timeout=_worker_stop_seconds())


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _worker_stop_seconds() -> float:
    """A worker exits within its shutdown bound whatever its runs are doing (server/worker_exit.py); past that
    and a margin for a busy machine (workers are niced), it is killed."""
    from nexa_research.server.settings import ServerSettings

    return ServerSettings().shutdown_seconds + 15.0


def worker(
    concurrency: Annotated[int | None, typer.Option(min=1, help="Runs executed at once (default NEXA_SERVER_WORKER_CONCURRENCY or 4).")] = None,
) -> None:
    """Execute queued runs (REDIS_URL, or the embedded Redis Stack when it is unset) until SIGTERM or Ctrl-C."""
    from nexa_research.server.observability.logs import configure_logging
    from nexa_research.server.provider_factory import providers_from_env
    from nexa_research.server.settings import ServerSettings
    from nexa_research.server.worker import Worker

    try:
        url = _redis_url()
        settings = ServerSettings()
        if concurrency is not None:
            settings = settings.model_copy(update={"worker_concurrency": concurrency})
        runner = Worker(url, settings, providers_from_env())
        _lower_priority(settings.worker_nice)
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc

    logging.getLogger().handlers.clear()  # the CLI's plain handler: JSON lines only, not every line twice
    configure_logging(os.environ.get("NEXA_LOG_LEVEL", "INFO"), json=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        watch = asyncio.create_task(_stop_when_orphaned(stop))
        try:
            await runner.serve(stop)
        finally:
            watch.cancel()

    asyncio.run(main())


def stop_processes(procs: Sequence[subprocess.Popen], timeout: float = 30.0) -> None:
    """SIGTERM every process still running, all at once so they stop in parallel; kill (and reap) those still
    running after `timeout` seconds each. Used by `nexa serve` for its workers, and by the benches and tests that
    start API and worker processes the same way."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _lower_priority(nice: int) -> None:
    """Runs are batch work: a worker yields the CPU to the API and Redis when they share a machine. Only ever
    lowered (raising priority needs privileges); a worker already nicer than `nice` is left as it is."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if nice > current:
        os.nice(nice - current)


async def _stop_when_orphaned(stop: asyncio.Event) -> None:
    """A worker started by `nexa serve` stops when that process is gone, however it ended (a SIGKILL gives
    `nexa serve` no chance to stop its workers itself)."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    while os.getppid() == int(parent):
        await asyncio.sleep(1)
    stop.set()


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
