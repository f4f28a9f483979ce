"""`nexa threads`, `nexa threads prune [--older-than DURATION] [--dry-run]`, `nexa history THREAD_ID [--at CHECKPOINT]`,
`nexa resume THREAD_ID [--from CHECKPOINT]`.

`nexa threads` is a group whose own call lists the threads, so `nexa threads --json` works as it always did.
"""

from __future__ import annotations

import asyncio
import json
import re
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
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> float:
    """Seconds in "30d", "12h", "90m", "45s", "2w" or a plain number of days ("30", "0.5")."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration: use e.g. 30d, 12h, 90m, 45s, 2w (a plain number is days)")
    number, unit = match.groups()
    return float(number) * _UNITS[unit or "d"]


threads_app = typer.Typer(help="List stored research threads with their status; `prune` deletes old finished ones.")


@threads_app.callback(invoke_without_command=True)
def threads(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Most recent N threads.")] = 50,
    as_json: AS_JSON = False,
) -> None:
    """List stored research threads with their status."""
    if ctx.invoked_subcommand is not None:
        return
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


@threads_app.command()
def prune(
    older_than: Annotated[str | None, typer.Option(
        "--older-than", help="Threads last written longer ago than this: 30d, 12h, 90m (default NEXA_RETENTION_DAYS).",
    )] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would go; delete nothing.")] = False,
    as_json: AS_JSON = False,
) -> None:
    """Delete finished threads older than a bound (checkpoints and server records); never an unfinished one."""
    from nexa_research.providers.settings import ProviderSettings
    from nexa_research.threads import prune_threads

    try:
        if older_than is None:
            days = ProviderSettings.load().retention_days
            if days == 0:
                raise typer.BadParameter("NEXA_RETENTION_DAYS is 0 (keep forever): say how old with --older-than")
            bound = days * _UNITS["d"]
        else:
            bound = parse_duration(older_than)
        result = asyncio.run(prune_threads(bound, dry_run))
    except NexaError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    verb = "would remove" if dry_run else "removed"
    table = Table(title=f"{verb}: finished threads last written over {older_than or f'{bound / 86400:g}d'} ago")
    for column in ("thread_id", "topic", "status", "last_activity", "keys"):
        table.add_column(column)
    for row in result["removed"]:
        table.add_row(row["thread_id"], row["topic"] or "", row["status"], row["last_activity"], str(row["keys"]))
    Console().print(table)
    kept = result["kept"]
    typer.echo(f"{verb} {len(result['removed'])} thread(s), {sum(r['keys'] for r in result['removed'])} key(s); "
               f"kept {len(kept)} unfinished thread(s) as old" + "".join(
                   f"\n  kept {r['thread_id']}: {r['status']}" for r in kept))


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
    app.add_typer(threads_app, name="threads")
    app.command()(history)
    app.command()(resume)
