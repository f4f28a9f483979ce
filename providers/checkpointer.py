"""The Redis checkpointer (langgraph-checkpoint-redis), opened by its owner with the module check up front.

Without RedisJSON/RediSearch, `setup()` fails deep inside redisvl with "unknown command 'FT.INFO'"; checking first
turns that into an error that says what to do. An `AsyncRedisSaver` is bound to the event loop that ran its
`asetup()` (its client's connections and its sync-wrapper dispatch both use that loop), so a saver is opened and
closed by its owner (a `ResearchRuntime`) inside one loop, on a client made here and closed on exit (a saver
never closes a client it was given). Index creation is idempotent: opening a saver costs `FT.INFO` round-trips.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from langgraph.checkpoint.redis.aio import AsyncRedisSaver

from nexa_research.providers.redis_server import check_redis_modules, redact_url

logger = logging.getLogger(__name__)

# A hung Redis must fail a step (which the run reports) rather than stall it forever; no command here blocks.
CONNECT_TIMEOUT, COMMAND_TIMEOUT = 5.0, 30.0
_checked: set[str] = set()


def check_modules_once(url: str) -> None:
    if url not in _checked:
        check_redis_modules(url)
        _checked.add(url)


@asynccontextmanager
async def open_async_checkpointer(url: str) -> AsyncIterator[AsyncRedisSaver]:
    """An `AsyncRedisSaver` for `url` on its own client, set up, and closed on exit (it belongs to this loop).

    `ResearchRuntime` opens one per runtime; pass it to `compile(checkpointer=)`.
    """
    await asyncio.to_thread(check_modules_once, url)
    client = aioredis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT)
    try:
        saver = AsyncRedisSaver(redis_client=client)
        await saver.asetup()
        logger.debug("async Redis checkpointer ready on %s", redact_url(url))
        yield saver
    finally:
        await client.aclose()
