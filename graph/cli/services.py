"""`nexa services start|status|stop`: the data folder's shared embedded services, seen and controlled by hand.

Two services are shared by every nexa process using a data folder: the embedded Redis Stack
(providers/services/redis_embedded.py) and the local model server (providers/llm/model_launch.py). Runs start them
on their own and they stop themselves when idle; these commands are for looking at them, stopping them now (before
moving the data folder, say), or starting them ahead of a server's workers.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from nexa_research.errors import NexaError
from nexa_research.providers.llm.model_folder import HostRecord
from nexa_research.providers.services.redis_embedded import (
    EmbeddedRedisSettings,
    ServerStatus,
    embedded_folder,
    ensure_server,
    server_status,
    stop_server,
)
from nexa_research.providers.settings import ProviderSettings

services_app = typer.Typer(
    help="The embedded Redis Stack and local model server shared by every nexa process using this data folder."
)
console = Console(stderr=True)


def _external_note(settings: ProviderSettings) -> None:
    if settings.redis_url:
        console.print("REDIS_URL is set: runs use that server, not the embedded one shown here", highlight=False)


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"


@services_app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False) -> None:
    """Whether the embedded Redis runs (URL, pid, uptime, clients, idle stop) and which local model servers run.
    Exit code 1 when Redis does not run."""
    from nexa_research.providers.llm.model_launch import hosts_root, live_hosts

    settings = ProviderSettings.load()
    folder = embedded_folder(settings)
    _external_note(settings)
    state = server_status(folder)
    models = [_model_state(record, model_dir) for model_dir, record in live_hosts(hosts_root(settings))]
    if as_json:
        typer.echo(json.dumps({"running": False, "dir": str(folder), "local_llm": models} if state is None else
                              {"running": True, **asdict(state.record), "uptime_seconds": state.uptime_seconds,
                               "clients": state.clients, "used_memory": state.used_memory,
                               "reaper_pid": state.reaper_pid, "local_llm": models}))  # fmt: skip
    else:
        typer.echo(_redis_text(state, folder))
        typer.echo(_models_text(models, settings))
    if state is None:
        raise typer.Exit(code=1)


def _redis_text(state: ServerStatus | None, folder: Path) -> str:
    if state is None:
        return f"embedded Redis: not running (data in {folder}; the next run starts it)"
    record = state.record
    idle = f"after {record.idle_minutes:g} idle minutes" if record.idle_minutes > 0 else "never (idle stop off)"
    return (
        f"embedded Redis: running\n  url      {record.url}\n  pid      {record.pid}\n"
        f"  uptime   {_duration(state.uptime_seconds)}\n  clients  {state.clients}\n"
        f"  memory   {state.used_memory}\n  data     {record.dir}\n  stops    {idle}"
        + (f" (reaper pid {state.reaper_pid})" if state.reaper_pid else "")
    )


def _model_state(record: HostRecord, folder: Path) -> dict[str, object]:
    """What status shows of a model server: never its key."""
    from nexa_research.providers.llm.model_launch import requests_in_flight

    return {"pid": record.pid, "base_url": f"{record.url}/v1", "model": record.model, "slots": record.parallel,
            "ctx_per_slot": record.ctx_per_slot, "threads": record.threads, "idle_minutes": record.idle_minutes,
            "uptime_seconds": int(time.time() - record.started_at), "requests_in_flight": requests_in_flight(record),
            "dir": str(folder)}  # fmt: skip


def _models_text(models: list[dict[str, Any]], settings: ProviderSettings) -> str:
    if not models:
        why = "runs use a hosted model or NEXA_LLM_BASE_URL" if _hosted_llm(settings) else "the next run on the embedded default starts it"
        return f"local model server: not running ({why})"
    lines = []
    for m in models:
        idle = f"after {m['idle_minutes']:g} idle minutes" if m["idle_minutes"] > 0 else "never (idle stop off)"
        busy = "no answer" if m["requests_in_flight"] is None else f"{m['requests_in_flight']} in flight"
        lines.append(
            f"local model server: running\n  url      {m['base_url']}\n  pid      {m['pid']}\n"
            f"  model    {m['model']}\n  size     {m['slots']} slots x {m['ctx_per_slot']} ctx, {m['threads']} threads\n"
            f"  uptime   {_duration(m['uptime_seconds'])}\n  requests {busy}\n  stops    {idle}"
        )  # fmt: skip
    return "\n".join(lines)


def _hosted_llm(settings: ProviderSettings) -> bool:
    return bool(settings.llm_base_url or settings.openrouter_api_key or settings.openai_api_key)


@services_app.command()
def stop() -> None:
    """Stop the embedded Redis (its AOF is fsynced first) and the local model servers now; runs still using Redis
    get a resumable error, model calls in flight fail (a later call starts the model server again)."""
    from nexa_research.providers.llm.model_launch import hosts_root, stop_hosts

    settings = ProviderSettings.load()
    _external_note(settings)
    try:
        stopped = stop_server(embedded_folder(settings))
        models = stop_hosts(hosts_root(settings))
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    if stopped is None:
        typer.echo("embedded Redis: was not running")
    else:
        uptime = _duration(int(time.time() - stopped.started_at))
        typer.echo(f"embedded Redis: stopped (pid {stopped.pid}, {stopped.url}, up {uptime})")
    for record in models:
        uptime = _duration(int(time.time() - record.started_at))
        typer.echo(f"local model server: stopped (pid {record.pid}, {record.url}/v1, up {uptime})")
    if not models:
        typer.echo("local model server: was not running")


@services_app.command()
def start(
    idle_minutes: Annotated[float | None, typer.Option(
        min=0, help="Stop after this many idle minutes (0 = never). Default: NEXA_REDIS_IDLE_MINUTES, else 30."
    )] = None,
    llm: Annotated[bool, typer.Option(
        "--llm", help="Also start the local model server (its idle stop: NEXA_LOCAL_IDLE_MINUTES) and print its URL."
    )] = False,
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
        model = _start_model(settings) if llm else None
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    if not started:
        console.print(f"already running (pid {record.pid}); its idle stop stays {record.idle_minutes:g} minutes")
    typer.echo(record.url)
    if model is not None:
        typer.echo(model)


def _start_model(settings: ProviderSettings) -> str:
    """Start or find the model server the embedded default uses; its OpenAI base URL (the key is in its record)."""
    from nexa_research.providers.llm.local_server import local_server

    if _hosted_llm(settings):
        console.print("runs use NEXA_LLM_BASE_URL or a hosted model, not the local model server started here")
    return local_server(settings).base_url


def register(app: typer.Typer) -> None:
    app.add_typer(services_app, name="services")
