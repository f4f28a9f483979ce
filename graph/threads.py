"""Stored runs: list threads with their status, show a thread's steps, read state at any checkpoint, prune old ones.

Threads are found from their first checkpoint (metadata source "input" in the root namespace), so any run the
graph checkpointed is listed, whoever started it. Pruning finds them through the checkpoint index and the
server's thread list, so a thread only a server recorded (its run failed before its first step) goes too.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from langgraph.types import StateSnapshot

from nexa_research.errors import ResearchInputError
from nexa_research.retention import thread_finished
from nexa_research.runtime import ResearchRuntime


def describe_snapshot(thread_id: str, snapshot: StateSnapshot) -> dict[str, Any]:
    """Status of a thread at a snapshot: done, waiting for plan review, or interrupted before some step."""
    values = snapshot.values or {}
    paragraphs = values.get("paragraphs") or []
    if values.get("report") and not snapshot.next:
        status = "done"
    elif snapshot.interrupts:
        status = "waiting for plan review"
    elif snapshot.next:
        status = f"interrupted before {', '.join(snapshot.next)}"
    else:
        status = "empty"
    return {
        "thread_id": thread_id,
        "topic": values.get("topic"),
        "status": status,
        "sections": len(paragraphs),
        "sections_done": sum(1 for p in paragraphs if p.get("status") in ("done", "missing")),
        "checkpoint_id": (snapshot.config or {}).get("configurable", {}).get("checkpoint_id"),
        "updated_at": snapshot.created_at,
    }


async def thread_status(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    async with ResearchRuntime(use_cache=False) as runtime:
        snapshot = await runtime.snapshot(thread_id, checkpoint_id)
        if snapshot is None or not snapshot.values:
            raise ResearchInputError(f"thread_id: no run is stored on thread {thread_id!r}")
        return {**describe_snapshot(thread_id, snapshot), "values": _summary(snapshot.values)}


async def list_threads(limit: int = 50) -> list[dict[str, Any]]:
    """The most recent threads first, each with its current status."""
    async with ResearchRuntime(use_cache=False) as runtime:
        saver, graph = runtime.checkpointer, runtime.graph
        if saver is None:
            return []
        seen: list[str] = []
        async for item in saver.alist(None, filter={"source": "input"}):
            configurable = item.config["configurable"]
            if configurable.get("checkpoint_ns", "") == "" and configurable["thread_id"] not in seen:
                seen.append(configurable["thread_id"])
        rows = []
        for thread_id in seen[:limit]:
            snapshot = await graph.aget_state({"configurable": {"thread_id": thread_id}})
            rows.append(describe_snapshot(thread_id, snapshot))
        return sorted(rows, key=lambda r: r["updated_at"] or "", reverse=True)


async def thread_history(thread_id: str) -> list[dict[str, Any]]:
    """Every checkpoint of a thread, newest first: its id (for time travel), step, what wrote it, what runs next."""
    async with ResearchRuntime(use_cache=False) as runtime:
        graph = runtime.graph
        steps = []
        async for snapshot in graph.aget_state_history({"configurable": {"thread_id": thread_id}}):
            if snapshot.config["configurable"].get("checkpoint_ns", ""):
                continue  # the Redis saver lists subgraph checkpoints too; time travel works on the parent's
            metadata = snapshot.metadata or {}
            steps.append(
                {
                    "checkpoint_id": snapshot.config["configurable"]["checkpoint_id"],
                    "step": metadata.get("step"),
                    "source": metadata.get("source"),
                    "next": list(snapshot.next),
                    "created_at": snapshot.created_at,
                }
            )
        if not steps:
            raise ResearchInputError(f"thread_id: no run is stored on thread {thread_id!r}")
        return steps


async def prune_threads(older_than_seconds: float, dry_run: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Delete every key of the finished threads last written more than `older_than_seconds` ago (checkpoints,
    writes, the server's records of them); unfinished threads (waiting for review, failed or cancelled mid-way, a
    run pending or running) are never deleted. {"removed": [...], "kept": [...]}, each row a thread with its
    topic, status, last activity and number of keys; with `dry_run`, nothing is deleted."""
    from nexa_research.server.thread_keys import server_thread_busy, server_threads

    if older_than_seconds < 0:
        raise ResearchInputError(f"older_than: must not be negative, got {older_than_seconds:g} seconds")
    async with ResearchRuntime(use_cache=False) as runtime:
        retention = runtime.retention
        if retention is None:
            raise ResearchInputError("prune: threads are kept in Redis only with NEXA_CHECKPOINTER=redis")
        last = await retention.checkpointed_threads()
        for thread_id, updated in (await server_threads(retention.redis)).items():
            last[thread_id] = max(updated, last.get(thread_id, 0.0))
        cutoff = time.time() - older_than_seconds
        removed, kept = [], []
        for thread_id, stamp in sorted(last.items(), key=lambda item: item[1]):
            if stamp >= cutoff:
                continue
            snapshot = await runtime.snapshot(thread_id)
            keys = await retention.keys(thread_id)
            row = {**describe_snapshot(thread_id, snapshot), "last_activity": datetime.fromtimestamp(stamp, UTC).isoformat(),
                   "keys": len(keys.all)}
            if await server_thread_busy(retention.redis, thread_id):
                kept.append({**row, "status": "a run is pending or running"})
            elif not thread_finished(snapshot):
                kept.append(row)
            else:
                if not dry_run:
                    await retention.delete(thread_id, keys)
                removed.append(row)
        return {"removed": removed, "kept": kept}


def _summary(values: dict[str, Any]) -> dict[str, Any]:
    """State without the bulky parts (source texts), for a terminal."""
    return {
        "topic": values.get("topic"),
        "title": values.get("title"),
        "paragraphs": [
            {k: p.get(k) for k in ("index", "title", "status", "iterations", "queries", "error")}
            for p in values.get("paragraphs") or []
        ],
        "sources": len(values.get("sources") or []),
        "has_report": bool(values.get("report")),
    }
