"""Threads as the LangGraph server API shows them, read from the Redis checkpointer (the one source of truth).

A thread's `values`, `interrupts` and the state/history endpoints come from the graph's checkpoints; the
thread record (server/records.py) adds only its metadata and times. Status: `busy` while a run is pending or
running on it, `interrupted` when its last checkpoint waits on an interrupt (plan review), `error` when its last
run failed, else `idle`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.types import StateSnapshot

from nexa_research.server.serialize import to_jsonable


def checkpoint_ref(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    configurable = config.get("configurable") or {}
    return {
        "thread_id": configurable.get("thread_id"),
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable.get("checkpoint_id"),
        "checkpoint_map": configurable.get("checkpoint_map"),
    }


def state_view(snapshot: StateSnapshot) -> dict[str, Any]:
    """A `ThreadState` of the SDK."""
    return {
        "values": to_jsonable(snapshot.values or {}),
        "next": list(snapshot.next),
        "tasks": [
            {
                "id": task.id,
                "name": task.name,
                "error": None if task.error is None else f"{type(task.error).__name__}: {task.error}",
                "interrupts": to_jsonable(list(task.interrupts)),
                "checkpoint": None,
                "state": None,
                "result": to_jsonable(task.result) if task.result is not None else None,
            }
            for task in snapshot.tasks
        ],
        "checkpoint": checkpoint_ref(snapshot.config),
        "metadata": to_jsonable(snapshot.metadata or {}),
        "created_at": snapshot.created_at,
        "parent_checkpoint": checkpoint_ref(snapshot.parent_config),
        "interrupts": to_jsonable(list(snapshot.interrupts)),
    }


def empty_state(thread_id: str) -> dict[str, Any]:
    return {"values": {}, "next": [], "tasks": [], "checkpoint": None, "metadata": {}, "created_at": None,
            "parent_checkpoint": None, "interrupts": []}


def thread_interrupts(snapshot: StateSnapshot | None) -> dict[str, list[Any]]:
    """Interrupts by task id, as `Thread.interrupts`."""
    if snapshot is None:
        return {}
    return {task.id: to_jsonable(list(task.interrupts)) for task in snapshot.tasks if task.interrupts}


def thread_status(snapshot: StateSnapshot | None, active: bool, last_run_status: str | None) -> str:
    if active:
        return "busy"
    if snapshot is not None and snapshot.interrupts:
        return "interrupted"
    if last_run_status in ("error", "timeout"):
        return "error"
    return "idle"


def thread_view(
    record: dict[str, Any], snapshot: StateSnapshot | None, active: bool, last_run_status: str | None
) -> dict[str, Any]:
    """A `Thread` of the SDK."""
    values = to_jsonable(snapshot.values) if snapshot is not None and snapshot.values else None
    return {
        "thread_id": record["thread_id"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "metadata": record.get("metadata") or {},
        "status": thread_status(snapshot, active, last_run_status),
        "values": values,
        "interrupts": thread_interrupts(snapshot),
        "config": record.get("config") or {},
        "error": record.get("error"),
    }
