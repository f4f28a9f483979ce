"""What a run persists to: a checkpointer (Redis by default) and a Redis cache, opened per event loop and closed after.

Deployment chooses with NEXA_CHECKPOINTER (redis | memory | none) and NEXA_CACHE; REDIS_URL points at a Redis
with the JSON and Search modules, otherwise the library starts its embedded Redis Stack. Async Redis clients
belong to the loop that opened them, so everything here is opened inside the run's loop and closed before it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Checkpointer

from nexa_research.providers.settings import ProviderSettings

# Threads checkpointed in memory live as long as this process: enough for plan review in a notebook or script.
PROCESS_MEMORY_SAVER = InMemorySaver()


@dataclass
class RunServices:
    checkpointer: Checkpointer
    cache: object | None  # a RedisCache, or None when caching is off or Redis is not used
    redis_url: str | None


async def _redis_url(settings: ProviderSettings) -> str:
    from nexa_research.providers.redis_server import ensure_redis_url

    return await asyncio.to_thread(ensure_redis_url, settings)


@asynccontextmanager
async def open_run_services(
    settings: ProviderSettings | None = None,
    checkpointer: Checkpointer = None,
    use_cache: bool = True,
) -> AsyncIterator[RunServices]:
    """Yield the checkpointer and cache for one run; a caller's own checkpointer always wins."""
    settings = settings or ProviderSettings.load()
    wants_redis = checkpointer is None and settings.checkpointer == "redis"
    wants_cache = use_cache and settings.cache and (wants_redis or settings.redis_url is not None)
    url = await _redis_url(settings) if (wants_redis or wants_cache) else None
    saver: Checkpointer = checkpointer
    if saver is None and wants_redis:
        from nexa_research.providers.checkpointer import open_async_checkpointer

        # Shared by every run on this loop; closed by `close_loop_services` when the loop's owner is done.
        saver = await open_async_checkpointer(url)  # type: ignore[arg-type]
    elif saver is None and settings.checkpointer == "memory":
        saver = PROCESS_MEMORY_SAVER
    cache = None
    if wants_cache:
        from nexa_research.providers.redis_cache import RedisCache

        cache = RedisCache(url)  # type: ignore[arg-type]
    try:
        yield RunServices(checkpointer=saver, cache=cache, redis_url=url)
    finally:
        if cache is not None:
            await cache.aclose()  # type: ignore[attr-defined]


async def close_loop_services() -> None:
    """Close the Redis savers opened on the running loop; call it just before that loop ends."""
    from nexa_research.providers.checkpointer import aclose_async_checkpointers

    await aclose_async_checkpointers()
