"""`/health/detailed` (needs a key): each dependency up or down, with its latency.

`/health` (open, in server/app.py) only says the process answers. The detailed check probes what a run needs:
Redis (checkpoints, queue, records), the knowledge base, the LLM endpoint, the search backend, and the workers
(alive within the recovery bound, runs in progress) with the queue depth. Probes run concurrently, each with a
short timeout, and never start anything: the embedded llama.cpp server is started by workers on demand, so for
it the check is that its model file is in place.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import APIRouter
from redis.exceptions import RedisError

from nexa_research.config import ResearchConfig
from nexa_research.errors import NexaError
from nexa_research.providers.settings import ProviderSettings
from nexa_research.server.api_errors import UNAUTHORIZED
from nexa_research.server.job_queue import runs_waiting
from nexa_research.server.reaper import live_workers
from nexa_research.server.routes.deps import Ctx

router = APIRouter(tags=["meta"])
TIMEOUT = 5.0


async def _probe(check: Callable[[], Awaitable[str]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), TIMEOUT)
    except (TimeoutError, RedisError, httpx.HTTPError, NexaError, OSError, ValueError) as exc:
        return {"status": "down", "latency_ms": _ms(started), "detail": f"{type(exc).__name__}: {exc}"}
    return {"status": "up", "latency_ms": _ms(started), "detail": detail}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@router.get("/health/detailed", responses=UNAUTHORIZED, summary="Redis, knowledge base, LLM, search, workers: up/down")
async def detailed(ctx: Ctx) -> dict[str, Any]:
    settings = ProviderSettings.load()

    async def redis() -> str:
        await ctx.redis.ping()
        return "ping"

    async def knowledge_base() -> str:
        if settings.qdrant_url:
            async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                response = await http.get(f"{settings.qdrant_url.rstrip('/')}/readyz")
                response.raise_for_status()
            return f"qdrant at {settings.qdrant_url}"
        return "embedded, in this Redis Stack (RediSearch vector index)"

    async def llm() -> str:
        from nexa_research.providers.llm.endpoints import default_endpoint

        if not (settings.llm_base_url or settings.openrouter_api_key or settings.openai_api_key):
            from nexa_research.providers.llm.model_file import resolve_model_path

            path = await asyncio.to_thread(resolve_model_path, settings)
            if not path.exists():
                raise NexaError(f"local model {path} is not assembled: run `nexa setup`")
            return f"embedded llama.cpp, started by workers on demand ({path.name})"
        endpoint = default_endpoint(settings)
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            response = await http.get(f"{endpoint.base_url.rstrip('/')}/models",
                                      headers={"Authorization": f"Bearer {endpoint.api_key}"})
            response.raise_for_status()
        return f"{endpoint.kind} {endpoint.base_url}"

    async def search() -> str:
        from nexa_research.providers.search.registry import resolve_backend_name

        name = resolve_backend_name(ResearchConfig(), settings)
        if name != "exa":
            return f"{name} (the knowledge base)"
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            await http.head(settings.exa_base_url)  # reachability only: any HTTP answer will do
        return f"exa at {settings.exa_base_url}"

    async def workers() -> str:
        alive = await live_workers(ctx.redis, ctx.settings.recovery_seconds)
        if not alive:
            raise NexaError("no worker seen within the recovery bound: start `nexa worker`")
        return f"{len(alive)} alive, {sum(alive.values())} runs in progress"

    names = ("redis", "knowledge_base", "llm", "search", "workers")
    results = await asyncio.gather(*(_probe(c) for c in (redis, knowledge_base, llm, search, workers)))
    checks = dict(zip(names, results, strict=True))
    try:
        checks["workers"]["runs_waiting"] = await runs_waiting(ctx.redis)  # the backlog, in runs
    except RedisError:
        checks["workers"]["runs_waiting"] = None  # Redis's own check says why
    return {"status": "up" if all(c["status"] == "up" for c in checks.values()) else "degraded", "checks": checks}
