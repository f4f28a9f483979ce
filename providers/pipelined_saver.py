"""The Redis checkpointer's two write paths: one JSON encoding each, sent with other runs' writes, same documents.

With durability "sync" every step of a run waits for its checkpoint, and a 3-section run writes about 23
checkpoints and 70 pending writes. langgraph-checkpoint-redis 0.5 spends most of a worker's checkpointing CPU
around the data rather than on it: `aput` encodes the checkpoint with orjson, decodes it again, hands it to
redisvl, whose pipeline encodes it once more with the standard `json` module, then sets the thread's latest
pointer in a second round trip; `aput_writes` builds a new redis-py JSON command object (a dict of some forty
response callbacks) for every command it queues. Here the document is built once and encoded once with orjson,
and its commands (the document, the latest pointer, TTLs when configured; or the pending writes, the checkpoint's
has_writes flag and the write registry) are raw commands queued on a `CommandBatcher`
(providers/redis_batcher.py): the writes of all the runs in flight that arrive together share one pipeline, and
each call still returns only once its own commands have run. A read without a checkpoint id first looks at the
latest pointer through the same pipeline (most such reads, a new run's and its subgraphs', find none).

What is stored does not change: the same keys, the same JSON documents (RedisJSON keeps the parsed value, so
only the spelling of the text differs), the same key registry and the same search indexes, so the library's
reads (state, history, time travel, pending writes) and any process running the plain library see the same
threads. A value orjson cannot encode (bytes nested in state, a dict with non-string keys) takes the library's
own path, which falls back to msgpack; so does a cluster client. tests/integration/providers/test_pipelined_saver.py
compares the documents with the library's.

`asetup` also tolerates a second process creating the search indexes at the same moment: redisvl checks for an
index and then creates it, so two workers starting together on a fresh Redis failed with "Index already exists".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, cast

import orjson
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP, ChannelVersions, Checkpoint, CheckpointMetadata, CheckpointTuple
from langgraph.checkpoint.redis.aio import AsyncRedisSaver
from langgraph.checkpoint.redis.util import EMPTY_ID_SENTINEL, to_storage_safe_id, to_storage_safe_str
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redisvl.exceptions import RedisSearchError
from ulid import ULID

from nexa_research.providers.checkpoint_serializer import FastJsonRedisSerializer
from nexa_research.providers.redis_batcher import Command, CommandBatcher

logger = logging.getLogger(__name__)
_SETUP_TRIES = 3
_ULID_LENGTH = 26


class PipelinedAsyncRedisSaver(AsyncRedisSaver):
    """`AsyncRedisSaver` whose `aput` and `aput_writes` queue pre-encoded commands on a shared pipeline."""

    serde: FastJsonRedisSerializer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.serde = FastJsonRedisSerializer()  # same documents, less CPU (providers/checkpoint_serializer.py)
        self.batcher = CommandBatcher(cast(Redis, self._redis))  # a cluster client takes the library's paths

    async def asetup(self) -> None:
        for attempt in range(_SETUP_TRIES):
            try:
                await super().asetup()
                return
            except RedisSearchError as exc:  # another process created the index between redisvl's check and create
                if "already exists" not in str(exc) or attempt == _SETUP_TRIES - 1:
                    raise

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The library's read, after a look at the latest pointer through the shared pipeline when no checkpoint id
        is given: a run's parent graph, each of its subgraph namespaces and the worker's first look at a new thread
        find none, and each of those lookups was a round trip of its own."""
        configurable = config["configurable"]
        if not self.cluster_mode and configurable.get("checkpoint_id") in (None, "", EMPTY_ID_SENTINEL):
            namespace = configurable.get("checkpoint_ns", "")
            latest = self._make_redis_checkpoint_latest_key(configurable["thread_id"], namespace)
            [pointer] = await self.batcher.execute([("GET", latest)])
            if pointer is None:
                return None  # what the library answers without a pointer
        return await super().aget_tuple(config)

    def _ttl_seconds(self) -> int | None:
        if self.ttl_config and "default_ttl" in self.ttl_config:
            return int(self.ttl_config["default_ttl"] * 60)
        return None

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions, stream_mode: str = "values") -> RunnableConfig:
        if self.cluster_mode:
            return await super().aput(config, checkpoint, metadata, new_versions, stream_mode)
        configurable = config["configurable"]
        thread_id, checkpoint_ns = configurable["thread_id"], configurable["checkpoint_ns"]
        given_id = configurable.get("checkpoint_id")
        checkpoint_id = given_id or configurable.get("thread_ts") or checkpoint.get("id", "")
        parent_id = None
        if checkpoint.get("id") and given_id and checkpoint["id"] != given_id:  # the config names the parent
            parent_id, checkpoint_id = given_id, checkpoint["id"]
        run_id = configurable.get("run_id", metadata.get("run_id"))
        document = {
            "thread_id": to_storage_safe_id(thread_id),
            "run_id": to_storage_safe_id(run_id) if run_id else "",
            "checkpoint_ns": to_storage_safe_str(checkpoint_ns),
            "checkpoint_id": to_storage_safe_id(checkpoint_id),
            "parent_checkpoint_id": to_storage_safe_id(parent_id) if parent_id else "",
            "checkpoint_ts": _checkpoint_ts(checkpoint_id),
            "checkpoint": self._checkpoint_body(checkpoint),
            "metadata": self._dump_metadata(metadata),
            "has_writes": False,
        }
        if "source" in metadata and "step" in metadata:  # top level too, for list() filters
            document["source"], document["step"] = metadata["source"], metadata["step"]
        try:
            text = orjson.dumps(document, default=self.serde._default_handler)
        except (TypeError, orjson.JSONEncodeError):  # bytes or non-string keys in state: the library's msgpack path
            return await super().aput(config, checkpoint, metadata, new_versions, stream_mode)
        key = self._make_redis_checkpoint_key_cached(thread_id, checkpoint_ns, checkpoint_id)
        latest = self._make_redis_checkpoint_latest_key(thread_id, checkpoint_ns)
        ttl = self._ttl_seconds()
        commands: list[Command] = [("JSON.SET", key, "$", text), ("SET", latest, key)]
        if ttl is not None:
            commands += [("EXPIRE", key, ttl), ("EXPIRE", latest, ttl)]
        try:
            await self.batcher.execute(commands)
        except asyncio.CancelledError:
            if stream_mode in ("values", "messages"):  # as the library does: keep what a resumed stream needs
                await self._put_interrupted(key, document, metadata, stream_mode, ttl)
            raise
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns, "checkpoint_id": checkpoint_id}}

    def _checkpoint_body(self, checkpoint: Checkpoint) -> dict[str, Any]:
        """What the library's `_dump_checkpoint` stores for a JSON checkpoint, without its encode-decode trip."""
        body = dict(self.serde._preprocess_redis_json(checkpoint))
        if "channel_versions" in body:
            body["channel_versions"] = {k: str(v) for k, v in body["channel_versions"].items()}
        return {"type": "json", **body, "pending_sends": []}

    async def _put_interrupted(
        self, key: str, document: dict[str, Any], metadata: CheckpointMetadata, stream_mode: str, ttl: int | None
    ) -> None:
        """The checkpoint, marked interrupted, written again by a step cancelled while writing it (the pipeline
        may have been cut short). Best effort, as in the library: the caller sees the cancellation whatever
        happens here. Unlike the library's, the document keeps its parent, timestamp and step."""
        marked = {**metadata, "interrupted": True, "stream_mode": stream_mode}
        document = {**document, "metadata": self._dump_metadata(marked)}  # type: ignore[arg-type]
        pipe = self._redis.pipeline(transaction=False)
        pipe.execute_command("JSON.SET", key, "$", orjson.dumps(document, default=self.serde._default_handler))
        if ttl is not None:
            pipe.expire(key, ttl)
        try:
            await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - the cancellation being raised matters more than this write
            logger.warning("checkpoint %s: could not record the interrupted write: %s", key, exc)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        if not writes:
            return
        if self.cluster_mode:
            await super().aput_writes(config, writes, task_id, task_path)
            return
        configurable = config["configurable"]
        thread_id, checkpoint_id = configurable["thread_id"], configurable["checkpoint_id"]
        checkpoint_ns = configurable.get("checkpoint_ns", "")
        commands: list[Command] = []
        keys: list[str] = []
        for index, (channel, value) in enumerate(writes):
            kind, blob = self.serde.dumps_typed(value)
            idx = WRITES_IDX_MAP.get(channel, index)
            record = {
                "thread_id": to_storage_safe_id(thread_id), "checkpoint_ns": to_storage_safe_str(checkpoint_ns),
                "checkpoint_id": to_storage_safe_id(checkpoint_id), "task_id": task_id, "task_path": task_path,
                "idx": idx, "channel": channel, "type": kind, "blob": self._encode_blob(blob),
            }
            key = self._make_redis_checkpoint_writes_key_cached(thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
            commands.append(("JSON.SET", key, "$", orjson.dumps(record)))
            keys.append(key)
        checkpoint_key = self._make_redis_checkpoint_key_cached(thread_id, checkpoint_ns, checkpoint_id)
        commands.append(("JSON.MERGE", checkpoint_key, "$", b'{"has_writes":true}'))
        registry = None
        if self._key_registry is not None:
            registry = self._key_registry.make_write_keys_zset_key(thread_id, checkpoint_ns, checkpoint_id)
            commands.append(("ZADD", registry, *(word for position, key in enumerate(keys) for word in (position, key))))
        results = await self.batcher.results(commands)
        for command, result in zip(("set",) * len(keys) + ("merge", "zadd"), results, strict=False):
            if isinstance(result, ResponseError) and command == "merge":
                await self._mark_has_writes(checkpoint_key)  # RedisJSON before 2.6 has no JSON.MERGE
            elif isinstance(result, Exception):
                raise result
        ttl = self._ttl_seconds()
        if ttl is not None:  # after the writes, as the library does (a failed EXPIRE must not lose a write)
            await self.batcher.execute([("EXPIRE", key, ttl) for key in keys + ([registry] if registry else [])])

    async def _mark_has_writes(self, checkpoint_key: str) -> None:
        document = await self._redis.json().get(checkpoint_key)
        if isinstance(document, dict) and not document.get("has_writes"):
            document["has_writes"] = True
            await self._redis.json().set(checkpoint_key, "$", document)


def _checkpoint_ts(checkpoint_id: str) -> float:
    """The library's timestamp: a ULID id's own, else now (LangGraph's ids are uuid6, so in practice now), in ms."""
    if len(checkpoint_id) == _ULID_LENGTH:
        try:
            return ULID.from_str(checkpoint_id).timestamp
        except ValueError:  # 26 characters, not a ULID: the library takes now as well
            return time.time() * 1000
    return time.time() * 1000
