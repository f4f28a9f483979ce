"""`nexa threads`, `nexa history THREAD_ID [--at CHECKPOINT]`, `nexa resume THREAD_ID [--from CHECKPOINT]`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nexa_research.errors import NexaError

console = Console(stderr=True)


def _fail(exc: NexaError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=2)


AS_JSON = Annotated[bool, typer.Option("--json", help="Print JSON (exact ids, for scripts).")]


def threads(limit: Annotated[int, typer.Option(help="Most recent N threads.")] = 50, as_json: AS_JSON = False) -> None:
    """List stored research threads with their status."""
    from nexa_research.threads import list_threads

    rows = asyncio.run(list_threads(limit))
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title="threads")
    for column in ("thread_id", "topic", "status", "sections", "updated_at"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["thread_id"], row["topic"] or "", row["status"], f"{row['sections_done']}/{row['sections']}",
                      row["updated_at"] or "")
    Console().print(table)


def history(
    thread_id: Annotated[str, typer.Argument(help="Thread to inspect.")],
    at: Annotated[str | None, typer.Option(help="Show the state at this checkpoint id (time travel).")] = None,
    as_json: AS_JSON = False,
) -> None:
    """Show a thread's checkpoints, newest first, or its state at one checkpoint."""
    from nexa_research.threads import thread_history, thread_status

    try:
        if at:
            typer.echo(json.dumps(asyncio.run(thread_status(thread_id, at)), indent=2, default=str))
            return
        steps = asyncio.run(thread_history(thread_id))
    except NexaError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(steps, indent=2, default=str))
        return
    table = Table(title=f"history of {thread_id}")
    table.add_column("checkpoint_id", no_wrap=True)
    for column in ("step", "source", "next", "created_at"):
        table.add_column(column)
    for s in steps:
        table.add_row(s["checkpoint_id"], str(s["step"]), s["source"] or "", ", ".join(s["next"]), s["created_at"] or "")
    Console().print(table)


def resume(
    thread_id: Annotated[str, typer.Argument(help="Thread to continue.")],
    from_checkpoint: Annotated[str | None, typer.Option("--from", help="Replay from this checkpoint id.")] = None,
    approve: Annotated[bool, typer.Option(help="Approve a plan waiting for review.")] = False,
    out: Annotated[Path | None, typer.Option(help="Markdown file to write.")] = None,
    out_dir: Annotated[Path, typer.Option(help="Folder for the report when --out is not given.")] = Path("reports"),
) -> None:
    """Continue an interrupted run (or replay it from a checkpoint) and write its report."""
    from nexa_research.api import aresume
    from nexa_research.cli import write_report
    try:
        report = asyncio.run(aresume(thread_id, resume="approve" if approve else None, checkpoint_id=from_checkpoint))
    except NexaError as exc:
        raise _fail(exc) from exc
    typer.echo(str(write_report(report, out, out_dir)))


def register(app: typer.Typer) -> None:
    app.command()(threads)
    app.command()(history)
    app.command()(resume)
