"""FastAPI app: the research graph served through LangServe, plus a health check.

`uvicorn nexa_research.server.app:app`. Routes under /research: invoke, batch, stream, stream_events, playground.
"""

from __future__ import annotations

from fastapi import FastAPI
from langserve import add_routes

from nexa_research.builder import build_graph
from nexa_research.providers.provider_set import Providers


def create_app(providers: Providers | None = None) -> FastAPI:
    """An app serving a graph built with `providers` (default: from the environment)."""
    app = FastAPI(title="nexa-research", version="0.1.0", description="Deep research reports with checked citations.")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    add_routes(app, build_graph(providers), path="/research")
    return app


app = create_app()
