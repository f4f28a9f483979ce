"""Copying a thread's checkpoints to a new thread: `POST /threads/{id}/copy`, how Studio forks a thread.

The copy is a thread of its own from then on: every checkpoint of the source (the parent graph's and the
section subgraphs' namespaces), with its metadata, parent links and pending writes, is written again under
the new thread id through the checkpointer's own interface, oldest first so every parent exists before its
children. Runs are not copied: the copy's history is its state, and its next run continues from there.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver


async def copy_checkpoints(checkpointer: BaseCheckpointSaver[Any], source: str, target: str) -> int:
    """Write every checkpoint of thread `source` under thread `target`; the number copied."""
    tuples = [t async for t in checkpointer.alist(RunnableConfig(configurable={"thread_id": source}))]
    for found in reversed(tuples):  # alist gives the newest first
        namespace = found.config["configurable"].get("checkpoint_ns", "")
        parent = (found.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        into = RunnableConfig(configurable={"thread_id": target, "checkpoint_ns": namespace, "checkpoint_id": parent})
        checkpoint = found.checkpoint
        written = await checkpointer.aput(into, checkpoint, found.metadata, dict(checkpoint["channel_versions"]))
        writes: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for task_id, channel, value in found.pending_writes or []:
            writes[task_id].append((channel, value))
        for task_id, task_writes in writes.items():
            await checkpointer.aput_writes(written, task_writes, task_id)
    return len(tuples)
