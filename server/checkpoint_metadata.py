"""Merging metadata into one of a thread's checkpoints: `PATCH /threads/{id}/state` (the JS SDK's `patchState`).

The checkpoint keeps its id, values, parent and pending writes; only its metadata changes, so the thread's state
and history read the same except for the metadata (Studio labels checkpoints this way). It is written again
through the checkpointer's own interface (as server/thread_copy.py copies one), with its pending writes, so a
checkpoint waiting on plan review still shows its interrupt. Writing a checkpoint makes the saver take it for the
thread's latest: when an older one was patched, the latest is written again after it, and stays the latest.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple


async def patch_checkpoint_metadata(
    checkpointer: BaseCheckpointSaver[Any], thread_id: str, checkpoint_id: str | None, metadata: dict[str, Any]
) -> CheckpointTuple | None:
    """Merge `metadata` into the thread's checkpoint `checkpoint_id` (None: its latest); the patched checkpoint,
    or None when the thread has no such checkpoint."""
    latest = await checkpointer.aget_tuple(_at(thread_id, None))
    if latest is None:
        return None
    target = latest if checkpoint_id in (None, _id_of(latest)) else await checkpointer.aget_tuple(
        _at(thread_id, checkpoint_id))
    if target is None:
        return None
    patched = CheckpointTuple(target.config, target.checkpoint, {**target.metadata, **metadata},  # type: ignore[typeddict-item]
                              target.parent_config, target.pending_writes)
    await _write_again(checkpointer, thread_id, patched)
    if _id_of(target) != _id_of(latest):
        await _write_again(checkpointer, thread_id, latest)
    return await checkpointer.aget_tuple(_at(thread_id, _id_of(target)))


async def _write_again(checkpointer: BaseCheckpointSaver[Any], thread_id: str, found: CheckpointTuple) -> None:
    parent = (found.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    into = RunnableConfig(configurable={"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": parent})
    written = await checkpointer.aput(into, found.checkpoint, found.metadata,
                                      dict(found.checkpoint["channel_versions"]))
    writes: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for task_id, channel, value in found.pending_writes or []:
        writes[task_id].append((channel, value))
    for task_id, task_writes in writes.items():
        await checkpointer.aput_writes(written, task_writes, task_id)


def _at(thread_id: str, checkpoint_id: str | None) -> RunnableConfig:
    configurable = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return RunnableConfig(configurable=configurable)


def _id_of(found: CheckpointTuple) -> str:
    return str(found.config["configurable"]["checkpoint_id"])
