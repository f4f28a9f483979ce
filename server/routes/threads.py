"""Threads: create, get, search, update, delete; their state (read and edit) and history, from the checkpointer.

Editing state (`POST /threads/{id}/state`) is how a client changes the plan outside the plan-review interrupt:
the values are written as if `as_node` had returned them (by default the plan review), and the next run with
no input continues from there. A thread with a pending or running run cannot be edited (409).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.server.api_errors import CONFLICT, INVALID, NOT_FOUND, ApiError, not_found
from nexa_research.server.context import ServerContext
from nexa_research.server.lease import request_cancel
from nexa_research.server.records import ACTIVE_STATUSES
from nexa_research.server.routes.deps import Ctx, Owner
from nexa_research.server.run_results import result_key
from nexa_research.server.serialize import to_jsonable
from nexa_research.server.thread_views import checkpoint_ref, empty_state, state_view, thread_view

router = APIRouter(tags=["threads"])


class ThreadCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    thread_id: str | None = Field(default=None, min_length=1, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)
    if_exists: Literal["raise", "do_nothing"] = "raise"


class ThreadPatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    metadata: dict[str, Any] = Field(default_factory=dict)


class ThreadSearch(BaseModel):
    model_config = ConfigDict(extra="allow")
    ids: list[str] | None = None
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class StateUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    values: dict[str, Any] | list[dict[str, Any]] | None = None
    as_node: str | None = "review_plan"
    checkpoint_id: str | None = None
    checkpoint: dict[str, Any] | None = None


class HistoryRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    limit: int = Field(default=10, ge=1, le=1000)
    before: str | dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None


async def thread_record(ctx: ServerContext, thread_id: str, owner: str | None) -> dict[str, Any]:
    record = await ctx.thread_record(thread_id, owner)
    if record is None:
        raise not_found("thread", thread_id)
    return record


async def view_of(ctx: ServerContext, record: dict[str, Any]) -> dict[str, Any]:
    snapshot = await ctx.runtime.snapshot(record["thread_id"])
    runs = await ctx.store.runs_of(record["thread_id"])
    active = any(r["status"] in ACTIVE_STATUSES for r in runs)
    return thread_view(record, snapshot, active, runs[-1]["status"] if runs else None)


def _lookup(thread_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
    configurable = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return RunnableConfig(configurable=configurable)


@router.post("/threads", responses={**CONFLICT, **INVALID}, summary="Create a thread")
async def create_thread(ctx: Ctx, owner: Owner, body: ThreadCreate) -> dict[str, Any]:
    record, created = await ctx.store.create_thread(body.thread_id, body.metadata, owner)
    if not created and (body.if_exists == "raise" or record.get("owner") != owner):
        raise ApiError(409, f"thread {body.thread_id!r} already exists")
    return await view_of(ctx, record)


@router.get("/threads/{thread_id}", responses=NOT_FOUND, summary="Get a thread with its values and status")
async def get_thread(ctx: Ctx, owner: Owner, thread_id: str) -> dict[str, Any]:
    return await view_of(ctx, await thread_record(ctx, thread_id, owner))


@router.patch("/threads/{thread_id}", responses=NOT_FOUND, summary="Merge metadata into a thread")
async def patch_thread(ctx: Ctx, owner: Owner, thread_id: str, body: ThreadPatch) -> dict[str, Any]:
    record = await thread_record(ctx, thread_id, owner)
    record = await ctx.store.put_thread({**record, "metadata": {**(record.get("metadata") or {}), **body.metadata}})
    return await view_of(ctx, record)


@router.post("/threads/search", summary="Search threads by ids, metadata, values and status")
async def search_threads(ctx: Ctx, owner: Owner, body: ThreadSearch) -> list[dict[str, Any]]:
    ids = body.ids if body.ids is not None else await ctx.store.all_thread_ids()
    found: list[dict[str, Any]] = []
    skipped = 0
    for thread_id in ids:
        record = await ctx.store.get_thread(thread_id)
        if record is None or record.get("owner") != owner:
            continue  # another key's thread: not even listed
        if not _contains(record.get("metadata") or {}, body.metadata or {}):
            continue
        view = await view_of(ctx, record)
        if body.status and view["status"] != body.status:
            continue
        if body.values and not _contains(view["values"] or {}, body.values):
            continue
        if skipped < body.offset:
            skipped += 1
            continue
        found.append(view)
        if len(found) >= body.limit:
            break
    return found


def _contains(whole: dict[str, Any], part: dict[str, Any]) -> bool:
    return all(k in whole and whole[k] == v for k, v in part.items())


@router.delete("/threads/{thread_id}", status_code=204, responses=NOT_FOUND, summary="Delete a thread, its runs and checkpoints")
async def delete_thread(ctx: Ctx, owner: Owner, thread_id: str) -> Response:
    await thread_record(ctx, thread_id, owner)
    for run in await ctx.store.active_runs_of(thread_id):
        await request_cancel(ctx.redis, run["run_id"], "interrupt")
    for run_id in await ctx.store.delete_thread(thread_id):
        await ctx.log.clear(run_id)
        await ctx.redis.delete(result_key(run_id))  # else it stayed its hour, after its thread was gone
    if ctx.runtime.checkpointer is not None:
        await ctx.runtime.checkpointer.adelete_thread(thread_id)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/state", responses=NOT_FOUND, summary="The thread's current state")
async def get_state(ctx: Ctx, owner: Owner, thread_id: str, subgraphs: bool = False) -> dict[str, Any]:
    return await _state_at(ctx, owner, thread_id, None, subgraphs)


@router.get("/threads/{thread_id}/state/{checkpoint_id}", responses=NOT_FOUND, summary="The thread's state at a checkpoint")
async def get_state_at(ctx: Ctx, owner: Owner, thread_id: str, checkpoint_id: str, subgraphs: bool = False) -> dict[str, Any]:
    return await _state_at(ctx, owner, thread_id, checkpoint_id, subgraphs)


@router.post("/threads/{thread_id}/state/checkpoint", responses=NOT_FOUND, summary="The thread's state at a checkpoint")
async def post_state_at(ctx: Ctx, owner: Owner, thread_id: str, body: dict[str, Any]) -> dict[str, Any]:
    checkpoint = body.get("checkpoint") or {}
    return await _state_at(ctx, owner, thread_id, checkpoint.get("checkpoint_id"), bool(body.get("subgraphs")))


async def _state_at(
    ctx: ServerContext, owner: str | None, thread_id: str, checkpoint_id: str | None, subgraphs: bool
) -> dict[str, Any]:
    await thread_record(ctx, thread_id, owner)
    snapshot = await ctx.runtime.graph.aget_state(_lookup(thread_id, checkpoint_id), subgraphs=subgraphs)
    if checkpoint_id and not snapshot.values and snapshot.config.get("configurable", {}).get("checkpoint_id") is None:
        raise not_found("checkpoint", checkpoint_id)
    return state_view(snapshot) if snapshot.values or snapshot.next else empty_state(thread_id)


@router.post("/threads/{thread_id}/state", responses={**NOT_FOUND, **CONFLICT, **INVALID}, summary="Edit the thread's state (e.g. the plan)")
async def update_state(ctx: Ctx, owner: Owner, thread_id: str, body: StateUpdate) -> dict[str, Any]:
    await thread_record(ctx, thread_id, owner)
    if await ctx.store.active_runs_of(thread_id):
        raise ApiError(409, f"thread {thread_id!r} has a run in progress; edit its state when the run is done")
    graph = ctx.runtime.graph
    current = await graph.aget_state(_lookup(thread_id))
    if not current.values:
        raise ApiError(409, f"thread {thread_id!r} has no state to edit yet: start a run first")
    if body.as_node is not None and body.as_node not in graph.nodes:
        raise ApiError(422, f"as_node: {body.as_node!r} is not a node; nodes are {', '.join(sorted(graph.nodes))}")
    checkpoint_id = body.checkpoint_id or (body.checkpoint or {}).get("checkpoint_id")
    try:
        config = await graph.aupdate_state(_lookup(thread_id, checkpoint_id), body.values, as_node=body.as_node)
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(422, f"values: {exc}") from exc
    return {"checkpoint": checkpoint_ref(to_jsonable(config))}


@router.post("/threads/{thread_id}/history", responses=NOT_FOUND, summary="The thread's checkpoints, newest first")
async def history(ctx: Ctx, owner: Owner, thread_id: str, body: HistoryRequest) -> list[dict[str, Any]]:
    await thread_record(ctx, thread_id, owner)
    before: RunnableConfig | None = None
    if isinstance(body.before, str):
        before = _lookup(thread_id, body.before)
    elif isinstance(body.before, dict):
        before = RunnableConfig(configurable={**body.before, "thread_id": thread_id})
    states = []
    history = ctx.runtime.graph.aget_state_history(
        _lookup(thread_id, (body.checkpoint or {}).get("checkpoint_id")), filter=body.metadata, before=before,
    )
    try:
        async for snapshot in history:
            if snapshot.config["configurable"].get("checkpoint_ns", ""):
                continue  # subgraph checkpoints: history is the parent's, as time travel uses it
            states.append(state_view(snapshot))
            if len(states) >= body.limit:
                break
    except ValueError as exc:  # the Redis saver refuses filter keys it cannot index
        raise ApiError(422, f"metadata: {exc}") from exc
    return states
