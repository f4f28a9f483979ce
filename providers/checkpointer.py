"""The Redis checkpointer (langgraph-checkpoint-redis), opened by its owner with the module check up front.

Without RedisJSON/RediSearch, `setup()` fails deep inside redisvl with "unknown command 'FT.INFO'"; checking first
turns that into an error that says what to do. An `AsyncRedisSaver` is bound to the event loop that ran its
`asetup()` (its client's connections and its sync-wrapper dispatch both use that loop), so a saver is opened and
closed by its owner (a `ResearchRuntime`) inside one loop, on a client made here and closed on exit (a saver
never closes a client it was given). Index creation is idempotent: opening a saver costs `FT.INFO` round-trips.

A connection lost mid-run (the server killed or restarted) surfaces from the async saver as
`RedisConnectionLostError` (providers/services/redis_server.py), naming the redacted URL and the thread to resume, instead of
a redis-py or redisvl traceback ("RedisVLError: Failed to load data: ... Connection lost"). Only connection loss is
translated; any other error passes through unchanged, and redisvl's own traceback log of a lost connection is
dropped (the translated error carries that exception as its cause), so a user sees one clear message.

Retention (nexa_research/retention.py) needs two things only the saver knows: every key it keeps for a thread
(`athread_keys`, found through its own search indexes as `adelete_thread` finds them), and the moment a thread is
written again. Every root checkpoint is reported to the saver's `retention` listener before it is written, so a
finished thread that runs again loses its expiry before its run reads or writes anything, whichever entry point
(library, CLI, worker, LangServe) runs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata, CheckpointTuple
from langgraph.checkpoint.redis.util import from_storage_safe_str, to_storage_safe_id
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redisvl.query import FilterQuery
from redisvl.query.filter import Tag

from nexa_research.providers.pipelined_saver import PipelinedAsyncRedisSaver
from nexa_research.providers.services.redis_server import RedisConnectionLostError, check_redis_modules, redact_url

logger = logging.getLogger(__name__)

# A hung Redis must fail a step (which the run reports) rather than stall it forever; no command here blocks.
CONNECT_TIMEOUT, COMMAND_TIMEOUT = 5.0, 30.0
# Connections one runtime may hold (runs in flight each use a few at a time), and how long a step waits for one.
POOL_SIZE, POOL_TIMEOUT = 1000, 30.0
# Documents one thread may have in each index (a research run writes a few hundred): one search finds them all.
MAX_THREAD_DOCS = 100_000
_checked: set[str] = set()


class RootCheckpointListener(Protocol):
    """Told of a thread's root checkpoint before it is written; `parent_key` is the checkpoint it follows."""

    async def touch(self, thread_id: str, parent_key: str | None) -> None: ...


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, is a broken or refused connection (redisvl wraps them)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (RedisConnectionError, RedisTimeoutError, ConnectionError)):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class _LostConnectionLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and record.exc_info[1] is not None and connection_lost(record.exc_info[1]))


logging.getLogger("redisvl.index.index").addFilter(_LostConnectionLogFilter())


class ReportingAsyncRedisSaver(PipelinedAsyncRedisSaver):
    """`AsyncRedisSaver` whose connection losses are `RedisConnectionLostError`s naming the thread to resume."""

    def __init__(self, redis_client: aioredis.Redis, url: str) -> None:
        super().__init__(redis_client=redis_client)
        self.url = url
        self.client = redis_client  # the saver's own connections, which retention shares
        self.retention: RootCheckpointListener | None = None  # set by the runtime that opened this saver

    @contextmanager
    def _reported(self, thread_id: str | None) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            if not connection_lost(exc):
                raise
            raise RedisConnectionLostError(self.url, thread_id, exc) from exc

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        with self._reported(_thread(config)):
            return await super().aget_tuple(config)

    async def alist(self, config: RunnableConfig | None, **kwargs: Any) -> AsyncIterator[CheckpointTuple]:
        with self._reported(_thread(config)):
            async for item in super().alist(config, **kwargs):
                yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        stream_mode: str = "values",
    ) -> RunnableConfig:
        thread_id = _thread(config)
        with self._reported(thread_id):
            configurable = config.get("configurable") or {}
            if self.retention is not None and thread_id is not None and not configurable.get("checkpoint_ns"):
                parent = configurable.get("checkpoint_id")
                await self.retention.touch(thread_id, self.checkpoint_key(thread_id, parent) if parent else None)
            return await super().aput(config, checkpoint, metadata, new_versions, stream_mode)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        with self._reported(_thread(config)):
            await super().aput_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        with self._reported(thread_id):
            await super().adelete_thread(thread_id)

    def checkpoint_key(self, thread_id: str, checkpoint_id: str, checkpoint_ns: str = "") -> str:
        return self._make_redis_checkpoint_key(thread_id, checkpoint_ns, checkpoint_id)

    async def athread_keys(self, thread_id: str) -> list[str]:
        """Every key this saver keeps for `thread_id`: its checkpoints (all namespaces), their pending writes, the
        write registries and the latest-checkpoint pointers. Found through the saver's search indexes, as
        `adelete_thread` finds them: a SCAN would read the whole keyspace once per thread."""
        safe_id = to_storage_safe_id(thread_id)
        with self._reported(thread_id):
            checkpoints = await self.checkpoints_index.search(FilterQuery(
                Tag("thread_id") == safe_id, return_fields=["checkpoint_ns", "checkpoint_id"],
                num_results=MAX_THREAD_DOCS,
            ))
            writes = await self.checkpoint_writes_index.search(FilterQuery(  # their keys only: no field is read
                Tag("thread_id") == safe_id, num_results=MAX_THREAD_DOCS,
            ).no_content())
        if max(checkpoints.total, writes.total) > MAX_THREAD_DOCS:
            raise RuntimeError(f"thread {thread_id!r} has more than {MAX_THREAD_DOCS} checkpoints or writes")
        namespaces = {getattr(doc, "checkpoint_ns", "") for doc in checkpoints.docs}
        derived = [self._make_redis_checkpoint_latest_key(thread_id, from_storage_safe_str(ns)) for ns in namespaces]
        derived += [
            self._key_registry.make_write_keys_zset_key(thread_id, getattr(doc, "checkpoint_ns", ""),
                                                        getattr(doc, "checkpoint_id", ""))
            for doc in checkpoints.docs
        ] if self._key_registry is not None else []
        with self._reported(thread_id):  # a checkpoint without writes has no registry: name only what exists
            async with self.client.pipeline(transaction=False) as pipe:
                for key in derived:
                    pipe.exists(key)
                present = await pipe.execute()
        indexed = [doc.id for doc in (*checkpoints.docs, *writes.docs)]
        return indexed + [key for key, here in zip(derived, present, strict=True) if here]


def _thread(config: RunnableConfig | None) -> str | None:
    thread_id = ((config or {}).get("configurable") or {}).get("thread_id")
    return str(thread_id) if thread_id is not None else None


def check_modules_once(url: str) -> None:
    if url not in _checked:
        check_redis_modules(url)
        _checked.add(url)


@asynccontextmanager
async def open_async_checkpointer(url: str) -> AsyncIterator[ReportingAsyncRedisSaver]:
    """An `AsyncRedisSaver` for `url` on its own client, set up, and closed on exit (it belongs to this loop).

    `ResearchRuntime` opens one per runtime; pass it to `compile(checkpointer=)`.
    """
    await asyncio.to_thread(check_modules_once, url)
    # A pool that waits for a free connection: with redis-py's default pool, the 101st concurrent run on one
    # runtime (a worker with many slots) failed at once with "Too many connections".
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_TIMEOUT,
        socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT,
    )
    client = aioredis.Redis.from_pool(pool)  # the client owns the pool: closing it closes the connections
    try:
        saver = ReportingAsyncRedisSaver(client, url)
        await saver.asetup()
        logger.debug("async Redis checkpointer ready on %s", redact_url(url))
        yield saver
    finally:
        await client.aclose()
