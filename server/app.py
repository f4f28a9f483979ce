"""FastAPI app: the research graph served through LangServe, plus a health check.

`uvicorn nexa_research.server.app:app`. Routes under /research: invoke, batch, stream, stream_events, playground.
The app opens one `ResearchRuntime` for its lifetime (checkpointer, caches, providers, embedded services), so a
run through /research behaves as the same run through `aresearch` or the CLI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from langserve import add_routes

from nexa_research.builder import build_graph
from nexa_research.providers.provider_set import ConfiguredProviders, Providers
from nexa_research.runtime import ResearchRuntime
from nexa_research.server.langserve_graph import RuntimeGraph


def create_app(providers: Providers | None = None) -> FastAPI:
    """An app serving the graph with `providers` (default: from the environment, closed with the app)."""
    opened: list[ResearchRuntime] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with ResearchRuntime(providers) as runtime:
            opened.append(runtime)
            try:
                yield
            finally:
                opened.clear()

    def current() -> ResearchRuntime:
        if not opened:
            raise RuntimeError("the app's runtime is not open: serve the app (its lifespan opens the runtime)")
        return opened[0]

    app = FastAPI(
        title="nexa-research", version="0.1.0", description="Deep research reports with checked citations.",
        lifespan=lifespan,
    )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # The template only describes the routes' schemas; it never runs.
    template = build_graph(providers or ConfiguredProviders())
    add_routes(app, RuntimeGraph(current, template), path="/research")
    return app


app = create_app()
