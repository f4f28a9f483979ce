"""Redis checkpointers (langgraph-checkpoint-redis) opened once and shared, with the module check up front.

Without RedisJSON/RediSearch, `setup()` fails deep inside redisvl with "unknown command 'FT.INFO'"; checking first
turns that into an error that says what to do. An `AsyncRedisSaver` is bound to the event loop that ran its
`asetup()` (its client's connections and its sync-wrapper dispatch both use that loop), so async savers are shared
per (event loop, URL); the sync `RedisSaver` has no loop and is shared per URL. Index creation is idempotent, so a
new loop only pays for `FT.INFO` round-trips, not for new indexes. Each saver gets a client we create (a saver never
closes a client it was given, and `RedisSaver` has no close()), so the close functions here close those clients.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref

import redis
import redis.asyncio as aioredis
from langgraph.checkpoint.redis import RedisSaver
from langgraph.checkpoint.redis.aio import AsyncRedisSaver

from nexa_research.providers.redis_server import check_redis_modules, redact_url

logger = logging.getLogger(__name__)

# A hung Redis must fail a step (which the run reports) rather than stall it forever; no command here blocks.
CONNECT_TIMEOUT, COMMAND_TIMEOUT = 5.0, 30.0
_checked: set[str] = set()
_sync_savers: dict[str, tuple[RedisSaver, redis.Redis]] = {}
_async_savers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, tuple[AsyncRedisSaver, aioredis.Redis]]
] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _check_once(url: str) -> None:
    if url not in _checked:
        check_redis_modules(url)
        _checked.add(url)


async def open_async_checkpointer(url: str) -> AsyncRedisSaver:
    """The `AsyncRedisSaver` for `url` on the running loop, set up on first use; pass it to `compile(checkpointer=)`.

    Close it with `aclose_async_checkpointers()` before the loop ends (e.g. at the end of `asyncio.run`'s main).
    """
    loop = asyncio.get_running_loop()
    per_loop = _async_savers.setdefault(loop, {})
    if url not in per_loop:
        await asyncio.to_thread(_check_once, url)
        client = aioredis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT)
        saver = AsyncRedisSaver(redis_client=client)
        await saver.asetup()
        # A concurrent caller on this loop may have finished first: keep one saver, close the spare client.
        if per_loop.setdefault(url, (saver, client))[0] is not saver:
            await client.aclose()
        else:
            logger.info("async Redis checkpointer ready on %s", redact_url(url))
    return per_loop[url][0]


async def aclose_async_checkpointers() -> None:
    """Close every async saver opened on the running loop (their connections belong to it)."""
    per_loop = _async_savers.pop(asyncio.get_running_loop(), {})
    for _, client in per_loop.values():
        await client.aclose()


def open_checkpointer(url: str) -> RedisSaver:
    """The process-wide `RedisSaver` for `url`, set up on first use (for sync `invoke`/`get_state` callers)."""
    with _lock:
        if url not in _sync_savers:
            _check_once(url)
            client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT)
            saver = RedisSaver(redis_client=client)
            saver.setup()
            _sync_savers[url] = (saver, client)
            logger.info("Redis checkpointer ready on %s", redact_url(url))
        return _sync_savers[url][0]


def close_checkpointers() -> None:
    """Close every sync saver this process opened; the next `open_checkpointer` makes a fresh one."""
    with _lock:
        clients = [client for _, client in _sync_savers.values()]
        _sync_savers.clear()
    for client in clients:
        client.close()
