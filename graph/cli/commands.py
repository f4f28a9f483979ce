"""`nexa`: research a topic, ingest documents, check the setup. Typer commands over the library API."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live

from nexa_research.api import PlanReviewPending, aresearch, resolve_config
from nexa_research.cli import eval as eval_commands
from nexa_research.cli import keys as keys_commands
from nexa_research.cli import report as report_commands
from nexa_research.cli import serve as serve_commands
from nexa_research.cli import services as services_commands
from nexa_research.cli import setup as setup_commands
from nexa_research.cli import threads as threads_commands
from nexa_research.cli.progress import SectionProgress
from nexa_research.cli.report import FORMAT_HELP, OutputFormat, report_paths, write_report_files
from nexa_research.errors import NexaError
from nexa_research.providers.settings import ProviderSettings
from nexa_research.report import Report
from nexa_research.tracing import flush_traces

app = typer.Typer(help="nexa-research: turn a topic into a cited research report.", no_args_is_help=True)
console = Console(stderr=True)


def write_report(report: Report, out: Path | None, out_dir: Path) -> Path:
    """Write Markdown to `out` (or a timestamped file in `out_dir`) and JSON beside it; return the Markdown path."""
    return write_report_files(report, out, out_dir, ["markdown"])[0]


def _ensure_knowledge_base(settings: ProviderSettings) -> None:
    """Seed an empty local knowledge base (from an earlier embedded Qdrant store, else the Wikipedia corpus)."""
    from nexa_research.providers.kb.migration import seed_if_empty
    from nexa_research.providers.kb.store import open_knowledge_base

    with open_knowledge_base(settings) as kb:
        if kb.count() == 0:
            console.print("[bold]Knowledge base is empty: seeding it (once).[/bold]")
            console.print(seed_if_empty(kb, settings, progress=True))


async def _run_with_progress(topic: str, overrides: dict[str, Any], thread_id: str | None, quiet: bool) -> Report:
    cfg = resolve_config(None, overrides)
    progress = SectionProgress(cfg.max_iterations)
    with Live(progress.render(), console=console, refresh_per_second=4, transient=quiet) as live:

        def show(namespace: tuple[str, ...], chunk: dict[str, Any]) -> None:
            progress.update(namespace, chunk)
            live.update(progress.render())

        return await aresearch(topic, thread_id=thread_id, on_update=show, **overrides)


@app.command()
def research(
    topic: Annotated[str, typer.Argument(help="What to research.")],
    out: Annotated[Path | None, typer.Option(help="Report file to write (JSON is written beside it).")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.markdown,
    out_dir: Annotated[Path, typer.Option(help="Folder for the report when --out is not given.")] = Path("reports"),
    sections: Annotated[int | None, typer.Option(help="Exact number of sections (3-7).")] = None,
    iterations: Annotated[int | None, typer.Option(help="Research rounds per section (1-3).")] = None,
    backend: Annotated[str | None, typer.Option(help="Search backend: auto, kb (local knowledge base), exa, mcp:<server> (NEXA_MCP_SERVERS), or a registered name.")] = None,
    results: Annotated[int | None, typer.Option(help="Search results per query.")] = None,
    collection: Annotated[str | None, typer.Option(help="Knowledge-base collection to search (`nexa collections`); default NEXA_KB_COLLECTION.")] = None,
    language: Annotated[str | None, typer.Option(help="Language of the report.")] = None,
    thread_id: Annotated[str | None, typer.Option(help="Thread id: an existing one continues that run.")] = None,
    review: Annotated[bool, typer.Option(help="Pause after planning for review (approve with `nexa resume`).")] = False,
    ingest_if_empty: Annotated[bool, typer.Option(help="Seed an empty local knowledge base with Wikipedia first.")] = False,
    quiet: Annotated[bool, typer.Option(help="No live progress table.")] = False,
) -> None:
    """Research TOPIC and write the report (Markdown by default, or --format html/json/all) and JSON beside it."""
    if out is not None:
        report_paths(out, output_format.names())  # a bad --out fails now, not after the research
    overrides: dict[str, Any] = {"review_plan": True} if review else {}
    if sections is not None:
        overrides.update(min_sections=sections, max_sections=sections)
    for key, value in (("max_iterations", iterations), ("search_backend", backend), ("search_results", results),
                       ("language", language), ("kb_collection", collection)):
        if value is not None:
            overrides[key] = value
    try:
        settings = ProviderSettings.load()
        # only the default collection is seeded with Wikipedia: a named one holds what its owner ingested
        if ingest_if_empty and collection is None and (backend or "auto") in ("auto", "kb", "qdrant") and not settings.exa_api_key:
            _ensure_knowledge_base(settings)
        report = asyncio.run(_run_with_progress(topic, overrides, thread_id, quiet))
    except PlanReviewPending as exc:
        console.print(f"plan waiting for review on thread {exc.thread_id}: {exc.plan}")
        console.print(f"approve with: nexa resume {exc.thread_id} --approve")
        raise typer.Exit(code=3) from exc
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    paths = write_report_files(report, out, out_dir, output_format.names())
    missing = len(report.missing_sections)
    console.print(f"{len(report.sections)} sections ({missing} missing), {len(report.bibliography)} sources cited")
    # why a report has fewer sections than asked, or less of what was found: kept in the JSON's metadata, and said
    # here, where the person who asked for 5 sections sees 4
    for warning in report.metadata.warnings:
        console.print(f"[yellow]note:[/yellow] {warning}", soft_wrap=True)
    typer.echo("\n".join(str(path) for path in paths))


setup_commands.register(app)
threads_commands.register(app)
eval_commands.register(app)
services_commands.register(app)
serve_commands.register(app)
keys_commands.register(app)
report_commands.register(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    finally:
        flush_traces()  # traces leave from a background thread; a short-lived command waits for them

