"""The FastAPI app: the LangGraph server API (what langgraph_sdk speaks) and the LangServe routes at /research.

`nexa serve` runs it under uvicorn with worker processes (`nexa worker`); `uvicorn nexa_research.server.app:app`
runs the API alone against REDIS_URL (workers started elsewhere). Runs of the LangGraph API execute on the
workers through the Redis job queue; the LangServe routes run in the API process on the same `ResearchRuntime`
(checkpointer, caches), as the card asks. OpenAPI docs at /docs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from redis.exceptions import RedisError
from starlette.responses import Response

from nexa_research.builder import build_graph
from nexa_research.providers.provider_set import ConfiguredProviders, Providers
from nexa_research.runtime import ResearchRuntime
from nexa_research.server.access.gate import Gate
from nexa_research.server.access.settings import AccessSettings
from nexa_research.server.api_errors import ApiError, api_error_handler, redis_error_handler
from nexa_research.server.body_limit import BodyLimit
from nexa_research.server.context import ServerContext
from nexa_research.server.cors import add_cors
from nexa_research.server.cron_scheduler import CronScheduler
from nexa_research.server.langserve_graph import add_research_routes
from nexa_research.server.mcp.endpoint import McpEndpoint
from nexa_research.server.observability.http_metrics import HttpMetrics
from nexa_research.server.observability.logs import CorrelationIds, configure_logging
from nexa_research.server.observability.metrics import cluster_metrics, make_registry, metrics_response
from nexa_research.server.observability.run_metrics import RunMetrics
from nexa_research.server.plain_text_json import PlainTextJson
from nexa_research.server.process_gc import freeze_startup_objects
from nexa_research.server.provider_factory import providers_from_env
from nexa_research.server.reaper import live_workers
from nexa_research.server.routes import assistants, crons, run_streams, runs, threads
from nexa_research.server.routes import health as health_routes
from nexa_research.server.routes import report as report_routes
from nexa_research.server.routes import store as store_routes
from nexa_research.server.routes import thread_state as thread_state_routes
from nexa_research.server.settings import ServerSettings
from nexa_research.tracing import configure_tracing

VERSION = "0.1.0"


def create_app(
    providers: Providers | None = None, settings: ServerSettings | None = None, access: AccessSettings | None = None
) -> FastAPI:
    """An app serving the graph with `providers` (default: NEXA_SERVER_PROVIDERS, else from the environment)."""
    settings = settings or ServerSettings()
    access = access or AccessSettings()
    providers = providers if providers is not None else providers_from_env()

    registry = make_registry()
    mcp_endpoint = McpEndpoint(lambda: getattr(app.state, "server", None), VERSION)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with ServerContext(providers, settings, access) as context, mcp_endpoint.running():
            context.metrics = RunMetrics(context.redis)
            app.state.server = context
            try:
                with cluster_metrics(registry, context.redis_url, worker_window_seconds=settings.recovery_seconds):
                    async with CronScheduler(context, settings.cron_seconds).running():
                        yield
            finally:
                app.state.server = None

    def current() -> ResearchRuntime:
        context = getattr(app.state, "server", None)
        if context is None:
            raise RuntimeError("the app's runtime is not open: serve the app (its lifespan opens the runtime)")
        return context.runtime

    app = FastAPI(
        title="nexa-research", version=VERSION, lifespan=lifespan,
        description="Deep research reports with checked citations. The LangGraph server API (runs on worker "
        "processes, threads, SSE streams) for langgraph_sdk, and LangServe routes at /research.",
    )
    app.add_middleware(PlainTextJson)  # Studio's JSON sent as text/plain, read as JSON
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Gate, settings=access)  # outside the body limit: no key, no body read
    app.add_middleware(HttpMetrics, registry=registry)  # refusals are counted too
    app.add_middleware(CorrelationIds)  # every answer, refusals included, carries X-Request-ID
    add_cors(app)  # outermost: browser preflights (Studio) are answered before the key gate
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RedisError, redis_error_handler)

    @app.get("/ok", tags=["meta"], summary="Liveness, as the LangGraph server answers it")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/health", tags=["meta"], summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", tags=["meta"], summary="Prometheus metrics (NEXA_SERVER_METRICS_TOKEN: bearer token)")
    def metrics() -> Response:  # sync on purpose: the cluster collector reads Redis synchronously
        return metrics_response(registry)

    @app.get("/info", tags=["meta"], summary="Server version and capabilities")
    async def info() -> dict[str, Any]:
        context = app.state.server
        workers = await live_workers(context.redis, settings.recovery_seconds)
        return {"version": VERSION, "langgraph_py_version": _langgraph_version(), "flags": {"assistants": True,
                "crons": True, "langsmith": False}, "workers": len(workers), "graphs": [assistants.GRAPH_ID]}

    for router in (assistants.router, threads.router, crons.router, runs.router, run_streams.router,
                   health_routes.router):
        app.include_router(router)
    app.include_router(thread_state_routes.router)  # state, state at a checkpoint, history
    app.include_router(store_routes.router)  # /store/...: items and namespaces, per API key
    app.include_router(report_routes.router)  # GET /threads/{id}/report: HTML, Markdown or JSON
    app.router.routes.append(mcp_endpoint.route())  # /mcp: the research tools over MCP (streamable HTTP)

    # The template only describes the routes' schemas; it never runs.
    template = build_graph(providers or ConfiguredProviders())
    add_research_routes(app, current, template)
    return app


def _langgraph_version() -> str:
    from importlib.metadata import version

    return version("langgraph")


def __getattr__(name: str) -> Any:
    """`app` for `uvicorn nexa_research.server.app:app`, built on first use (not at import)."""
    if name == "app":
        logging.getLogger().handlers.clear()  # a plain handler (the CLI's basicConfig) would print every line twice
        configure_logging(os.environ.get("NEXA_LOG_LEVEL", "INFO"), json=True)
        configure_tracing()
        app = create_app()
        freeze_startup_objects()  # a server process of its own (server/process_gc.py)
        return app
    raise AttributeError(name)
