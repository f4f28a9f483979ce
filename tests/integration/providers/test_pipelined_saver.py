"""The pipelined Redis saver stores what langgraph-checkpoint-redis stores, so the library's reads see the same
threads; and savers starting together on a fresh Redis all set up."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.redis.aio import AsyncRedisSaver
from langgraph.types import Send

from nexa_research.providers.checkpoint_serializer import FastJsonRedisSerializer
from nexa_research.providers.pipelined_saver import PipelinedAsyncRedisSaver

pytestmark = pytest.mark.redis


@pytest.fixture
async def client(redis_stack_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_stack_url)
    yield client
    await client.aclose()


def research_checkpoint(saver: AsyncRedisSaver) -> dict[str, Any]:
    """A checkpoint shaped like a research run's: plain state, a pending Send, versions as LangGraph writes them."""
    checkpoint: dict[str, Any] = dict(empty_checkpoint())
    version = saver.get_next_version(None, None)  # type: ignore[arg-type]
    checkpoint["channel_values"] = {
        "topic": "The printing press", "report": None, "score": 0.25,
        "paragraphs": [{"index": 0, "title": "Movable type", "questions": ["Who?", "When?"],
                        "research": [{"url": "https://en.wikipedia.org/wiki/Movable_type", "text": "Bi Sheng …"}]}],
        "branch:to:research_paragraph": Send("research_paragraph", {"topic": "The printing press", "paragraph": {"index": 0}}),
    }
    checkpoint["channel_versions"] = {"topic": version, "paragraphs": version}
    checkpoint["versions_seen"] = {"plan": {"topic": version}}
    return checkpoint


async def store(saver: AsyncRedisSaver, thread_id: str, checkpoint: dict[str, Any], checkpoint_ns: str) -> str:
    """One checkpoint after a parent, then the pending writes of two tasks on it; the checkpoint's id."""
    parent = {"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns, "checkpoint_id": "parent-1"}}
    metadata: Any = {"source": "loop", "step": 2, "parents": {}, "run_id": "run-1", "topic": "printing\x00press"}
    saved = await saver.aput(parent, checkpoint, metadata, {})  # type: ignore[arg-type]
    await saver.aput_writes(saved, [("paragraphs", [{"index": 0, "latest_summary": "Gutenberg …"}]),
                                    ("steps", [{"node": "synthesize", "tokens": 412}])], "task-1", "~research")
    await saver.aput_writes(saved, [("__error__", {"message": "search failed"})], "task-2")
    return saved["configurable"]["checkpoint_id"]


async def stored_keys(client: aioredis.Redis, thread_id: str) -> dict[str, Any]:
    """Every key holding `thread_id`, by its name with the thread id blanked: JSON documents, pointers, registries."""
    found: dict[str, Any] = {}
    async for raw in client.scan_iter(match=f"*{thread_id}*"):
        key = raw.decode()
        kind = (await client.type(key)).decode()
        if kind == "ReJSON-RL":
            value: Any = await client.json().get(key)
        elif kind == "zset":
            value = [(m.decode().replace(thread_id, "T"), s) for m, s in await client.zrange(key, 0, -1, withscores=True)]
        else:
            value = (await client.get(key)).decode().replace(thread_id, "T")
        found[key.replace(thread_id, "T")] = value
    return found


@pytest.mark.parametrize("checkpoint_ns", ["", "research_paragraph:7f3c"])
async def test_it_stores_the_same_keys_and_documents_as_the_library(client: aioredis.Redis, checkpoint_ns: str) -> None:
    library, ours = AsyncRedisSaver(redis_client=client), PipelinedAsyncRedisSaver(redis_client=client)
    library.serde = FastJsonRedisSerializer()  # byte for byte the library's (tests/unit/providers)
    await library.asetup()
    await ours.asetup()
    threads = {"library": f"lib-{uuid.uuid4().hex}", "ours": f"ours-{uuid.uuid4().hex}"}
    checkpoint = research_checkpoint(library)
    await store(library, threads["library"], checkpoint, checkpoint_ns)
    await store(ours, threads["ours"], checkpoint, checkpoint_ns)

    stored = {name: await stored_keys(client, thread) for name, thread in threads.items()}
    for name, thread in threads.items():
        for value in stored[name].values():
            if isinstance(value, dict):
                assert value.pop("thread_id") == thread
                assert isinstance(value.pop("checkpoint_ts", 0.0), float)  # now, in both (LangGraph's ids are no ULIDs)
    assert len(stored["ours"]) == 1 + 1 + 3 + 1  # checkpoint, latest pointer, three writes, one write registry
    assert stored["ours"] == stored["library"]

    for saver, thread in ((library, threads["ours"]), (ours, threads["library"])):  # each reads the other's thread
        read = await saver.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": checkpoint_ns}})
        assert read is not None and read.parent_config is not None
        assert read.parent_config["configurable"]["checkpoint_id"] == "parent-1"
        assert read.checkpoint["channel_values"]["paragraphs"] == checkpoint["channel_values"]["paragraphs"]
        assert read.checkpoint["channel_values"]["branch:to:research_paragraph"].node == "research_paragraph"
        assert sorted((task, channel) for task, channel, _ in read.pending_writes or []) == [
            ("task-1", "paragraphs"), ("task-1", "steps"), ("task-2", "__error__")]


async def test_a_thread_or_namespace_never_written_reads_as_none_and_a_written_one_as_the_library_reads_it(
    client: aioredis.Redis,
) -> None:
    library, ours = AsyncRedisSaver(redis_client=client), PipelinedAsyncRedisSaver(redis_client=client)
    library.serde = FastJsonRedisSerializer()
    await library.asetup()
    await ours.asetup()
    thread = f"t-{uuid.uuid4().hex}"
    assert await ours.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}) is None
    saved = await store(ours, thread, research_checkpoint(ours), "")

    for checkpoint_id in (None, saved):
        config = {"configurable": {"thread_id": thread, "checkpoint_ns": "", "checkpoint_id": checkpoint_id}}
        read, expected = await ours.aget_tuple(config), await library.aget_tuple(config)  # type: ignore[arg-type]
        assert read is not None and expected is not None
        assert (read.config, read.checkpoint, read.pending_writes) == (
            expected.config, expected.checkpoint, expected.pending_writes)
    assert await ours.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": "research_paragraph:1"}}) is None


async def test_state_the_json_path_cannot_hold_takes_the_librarys_way(client: aioredis.Redis) -> None:
    """Bytes in state and non-string keys make orjson refuse: the library's own path stores them (msgpack, then
    JSON with keys as text), and both read back the same."""
    library, ours = AsyncRedisSaver(redis_client=client), PipelinedAsyncRedisSaver(redis_client=client)
    await library.asetup()
    await ours.asetup()
    read = []
    for saver in (library, ours):
        checkpoint = research_checkpoint(saver)
        checkpoint["channel_values"] = {"raw": {"blob": b"\x00\x01"}, "by_index": {1: "one"}}
        thread = f"t-{uuid.uuid4().hex}"
        await store(saver, thread, checkpoint, "")
        found = await saver.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
        assert found is not None
        read.append(found.checkpoint["channel_values"])
    assert read[1] == read[0]
    assert read[1]["raw"] == {"blob": b"\x00\x01"}


async def test_savers_starting_together_on_a_fresh_redis_all_set_up(client: aioredis.Redis) -> None:
    """redisvl checks for an index, then creates it: two workers starting at once failed with 'Index already
    exists' until the saver tolerated it."""
    prefix = f"checkpoint_race_{uuid.uuid4().hex[:8]}"
    savers = [PipelinedAsyncRedisSaver(redis_client=client, checkpoint_prefix=prefix,
                                       checkpoint_write_prefix=f"{prefix}_write") for _ in range(4)]
    try:
        await asyncio.gather(*(saver.asetup() for saver in savers))
        assert [await saver.checkpoints_index.exists() for saver in savers] == [True] * 4
    finally:
        await savers[0].checkpoints_index.delete(drop=True)
        await savers[0].checkpoint_writes_index.delete(drop=True)
