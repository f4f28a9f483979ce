"""`nexa services start|status|stop`: the shared embedded Redis Stack of the data folder, seen and controlled by hand.

Runs start it on their own and it stops itself when idle (providers/services/redis_embedded.py); these commands are for
looking at it, stopping it now (before moving the data folder, say), or starting it ahead of a server's workers.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console

from nexa_research.errors import NexaError
from nexa_research.providers.services.redis_embedded import (
    EmbeddedRedisSettings,
    embedded_folder,
    ensure_server,
    server_status,
    stop_server,
)
from nexa_research.providers.settings import ProviderSettings

services_app = typer.Typer(help="The embedded Redis Stack shared by every nexa process using this data folder.")
console = Console(stderr=True)


def _external_note(settings: ProviderSettings) -> None:
    if settings.redis_url:
        console.print("REDIS_URL is set: runs use that server, not the embedded one shown here", highlight=False)


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"


@services_app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False) -> None:
    """Whether the embedded Redis runs: URL, pid, uptime, clients, idle stop. Exit code 1 when it does not run."""
    settings = ProviderSettings.load()
    folder = embedded_folder(settings)
    _external_note(settings)
    state = server_status(folder)
    if as_json:
        typer.echo(json.dumps({"running": False, "dir": str(folder)} if state is None else
                              {"running": True, **asdict(state.record), "uptime_seconds": state.uptime_seconds,
                               "clients": state.clients, "used_memory": state.used_memory,
                               "reaper_pid": state.reaper_pid}))  # fmt: skip
    elif state is None:
        typer.echo(f"embedded Redis: not running (data in {folder}; the next run starts it)")
    else:
        record = state.record
        idle = f"after {record.idle_minutes:g} idle minutes" if record.idle_minutes > 0 else "never (idle stop off)"
        typer.echo(
            f"embedded Redis: running\n  url      {record.url}\n  pid      {record.pid}\n"
            f"  uptime   {_duration(state.uptime_seconds)}\n  clients  {state.clients}\n"
            f"  memory   {state.used_memory}\n  data     {record.dir}\n  stops    {idle}"
            + (f" (reaper pid {state.reaper_pid})" if state.reaper_pid else "")
        )
    if state is None:
        raise typer.Exit(code=1)


@services_app.command()
def stop() -> None:
    """Stop the embedded Redis now (its AOF is fsynced first); runs still using it get a resumable error."""
    settings = ProviderSettings.load()
    _external_note(settings)
    try:
        stopped = stop_server(embedded_folder(settings))
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    if stopped is None:
        typer.echo("embedded Redis: was not running")
    else:
        uptime = _duration(int(time.time() - stopped.started_at))
        typer.echo(f"embedded Redis: stopped (pid {stopped.pid}, {stopped.url}, up {uptime})")


@services_app.command()
def start(
    idle_minutes: Annotated[float | None, typer.Option(
        min=0, help="Stop after this many idle minutes (0 = never). Default: NEXA_REDIS_IDLE_MINUTES, else 30."
    )] = None,
) -> None:
    """Start the embedded Redis (or find the running one) and print its URL; it never installs anything."""
    from nexa_research.providers.services.openssl import find_libssl11

    settings = ProviderSettings.load()
    _external_note(settings)
    idle = EmbeddedRedisSettings().idle_minutes if idle_minutes is None else idle_minutes
    try:
        record, started = ensure_server(
            embedded_folder(settings), find_libs=lambda: find_libssl11(settings), idle_minutes=idle
        )
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    if not started:
        console.print(f"already running (pid {record.pid}); its idle stop stays {record.idle_minutes:g} minutes")
    typer.echo(record.url)


def register(app: typer.Typer) -> None:
    app.add_typer(services_app, name="services")
