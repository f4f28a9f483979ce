"""Report files: what `nexa research --format` writes, and `nexa report THREAD_ID` to print or save the report of a
finished thread again (as Markdown, HTML or JSON) without running anything.

The JSON is written beside every report file, as it always was: it is the full record (passages, metadata) that
scripts and the evals read, whichever format a person asked to look at.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nexa_research.errors import NexaError
from nexa_research.report import Report
from nexa_research.report_formats import FORMATS, report_format

console = Console(stderr=True)


class OutputFormat(str, Enum):
    markdown = "markdown"
    html = "html"
    json = "json"
    all = "all"

    def names(self) -> list[str]:
        """The formats this choice writes, the one `--out` names first."""
        return list(FORMATS) if self is OutputFormat.all else [self.value]


FORMAT_HELP = "markdown, html (one self-contained page for a browser), json, or all three."


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "report"


def report_paths(out: Path, formats: list[str]) -> dict[str, Path]:
    """Where each format goes: the first to `out`, the others (JSON always among them) beside it with their own
    suffix. Checked before a run starts, so a name two files would share fails at once, not after the research."""
    chosen = [report_format(name) for name in formats]
    paths = {chosen[0].name: out}
    for fmt in [*chosen[1:], FORMATS["json"]]:
        paths.setdefault(fmt.name, out.with_suffix(fmt.suffix))
    clashes = [name for name, path in paths.items() if path == out and name != chosen[0].name]
    if clashes:
        raise typer.BadParameter(f"{out.name} would hold both the {chosen[0].name} and the {clashes[0]} report: "
                                 f"name it with {chosen[0].suffix} or no suffix", param_hint="--out")
    return paths


def write_report_files(report: Report, out: Path | None, out_dir: Path, formats: list[str]) -> list[Path]:
    """Write `report` in each of `formats` (to `out`, or a timestamped file in `out_dir`) and JSON beside it,
    even when not asked for. Returns the asked-for paths, in the order asked."""
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        out = out_dir / f"{_slug(report.topic)}-{stamp}{report_format(formats[0]).suffix}"
    paths = report_paths(out, formats)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name, path in paths.items():
        path.write_text(FORMATS[name].render(report), encoding="utf-8")
    return [paths[report_format(name).name] for name in formats]


def report(
    thread_id: Annotated[str, typer.Argument(help="A finished thread (see `nexa threads`).")],
    output_format: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.markdown,
    out: Annotated[Path | None, typer.Option(help="File to write (JSON beside it); default: print to stdout.")] = None,
) -> None:
    """Print (or save with --out) the report of a finished thread, without running anything."""
    from nexa_research.stored_report import read_stored_report

    if out is None and output_format is OutputFormat.all:
        raise typer.BadParameter("all writes three files: say where with --out", param_hint="--format")
    if out is not None:
        report_paths(out, output_format.names())
    try:
        stored = asyncio.run(read_stored_report(thread_id))
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    if out is None:
        typer.echo(FORMATS[output_format.value].render(stored).rstrip("\n"))
        return
    for path in write_report_files(stored, out, out.parent, output_format.names()):
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.command()(report)
