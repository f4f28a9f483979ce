"""`nexa setup`, `nexa ingest`, `nexa doctor`: prepare the embedded defaults and say what a run would use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from nexa_research.config import ResearchConfig
from nexa_research.errors import NexaError
from nexa_research.providers.settings import ProviderSettings

console = Console(stderr=True)


def setup() -> None:
    """Install what the embedded services need (OpenSSL 1.1 for Redis Stack) and assemble the local model. Idempotent."""
    from nexa_research.providers.local_model import ensure_default_model
    from nexa_research.providers.openssl_compat import ensure_libssl11

    settings = ProviderSettings.load()
    try:
        libs = ensure_libssl11(settings)
        console.print(f"OpenSSL 1.1 for Redis Stack: {libs or 'provided by the system'}")
        model = ensure_default_model(settings)
        console.print(f"local model: {model}")
    except NexaError as exc:
        console.print(f"[red]setup failed:[/red] {exc}")
        raise typer.Exit(code=2) from exc


def ingest(
    what: Annotated[str, typer.Argument(help="'wikipedia' for the offline corpus, or a file/folder of .md/.txt/.html/.pdf")],
    limit: Annotated[int | None, typer.Option(help="Only the first N Wikipedia articles.")] = None,
) -> None:
    """Load documents into the local knowledge base (Qdrant)."""
    from nexa_research.providers.ingest import ingest_path, ingest_wikipedia
    from nexa_research.providers.knowledge_base import KnowledgeBase

    kb = KnowledgeBase.from_settings(ProviderSettings.load())
    try:
        if what == "wikipedia":
            chunks = ingest_wikipedia(kb, limit=limit, progress=True)
            console.print(f"wikipedia: {chunks} chunks stored; knowledge base now holds {kb.count()} chunks")
            return
        path = Path(what)
        if not path.exists():
            console.print(f"[red]error:[/red] {path} does not exist")
            raise typer.Exit(code=2)
        report = ingest_path(kb, path, progress=True)
        console.print(f"{report.documents} documents, {report.chunks} chunks stored")
        for name, reason in report.skipped:
            console.print(f"[yellow]skipped[/yellow] {name}: {reason}")
    finally:
        kb.close()


def _check(name: str, probe: Callable[[], str], table: Table) -> bool:
    try:
        detail = probe()
    except (NexaError, OSError, httpx.HTTPError, ValueError) as exc:
        table.add_row(name, "[red]fails[/red]", f"{type(exc).__name__}: {exc}")
        return False
    table.add_row(name, "[green]ok[/green]", detail)
    return True


def _probe_llm(settings: ProviderSettings) -> str:
    from nexa_research.providers.llm_endpoints import default_endpoint

    endpoint = default_endpoint(settings)
    response = httpx.get(
        f"{endpoint.base_url.rstrip('/')}/models", headers={"Authorization": f"Bearer {endpoint.api_key}"}, timeout=10
    )
    response.raise_for_status()
    return f"{endpoint.kind} {endpoint.base_url} model={endpoint.default_model}"


def _probe_search(settings: ProviderSettings) -> str:
    from nexa_research.providers.search_registry import resolve_backend_name

    cfg = ResearchConfig()
    name = resolve_backend_name(cfg, settings)
    if name == "exa":
        return f"exa at {settings.exa_base_url} (EXA_API_KEY set)"
    return f"{name} (local knowledge base, see qdrant below)"


def _probe_qdrant(settings: ProviderSettings) -> str:
    from nexa_research.providers.knowledge_base import KnowledgeBase

    kb = KnowledgeBase.from_settings(settings)
    try:
        return f"{kb.location}: {kb.count()} chunks"
    finally:
        kb.close()


def _probe_redis(settings: ProviderSettings) -> str:
    from nexa_research.providers.redis_server import check_redis_modules, ensure_redis_url, redact_url

    url = ensure_redis_url(settings)
    check_redis_modules(url)
    return f"{redact_url(url)} ({'REDIS_URL' if settings.redis_url else 'embedded Redis Stack'}, JSON + Search modules)"


def doctor() -> None:
    """Say which LLM, search backend, Redis and Qdrant a run would use, and whether each answers."""
    settings = ProviderSettings.load()
    table = Table(title="nexa doctor")
    for column in ("component", "state", "detail"):
        table.add_column(column)
    results = [
        _check("llm", lambda: _probe_llm(settings), table),
        _check("search", lambda: _probe_search(settings), table),
        _check("qdrant", lambda: _probe_qdrant(settings), table),
        _check("redis", lambda: _probe_redis(settings), table),
    ]
    Console().print(table)
    if not all(results):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command()(setup)
    app.command()(ingest)
    app.command()(doctor)
