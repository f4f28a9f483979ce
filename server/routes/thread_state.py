"""A thread's state, read (now or at a checkpoint) and edited, and its history, from the checkpointer.

Editing state (`POST /threads/{id}/state`) is how a client changes the plan outside the plan-review interrupt:
the values are written as if `as_node` had returned them (by default the plan review), and the next run with
no input continues from there. A thread with a pending or running run cannot be edited (409).

`PATCH /threads/{id}/state` merges metadata into the latest (or a given) checkpoint, its values untouched
(server/checkpoint_metadata.py). An edit of the state is announced on the thread's stream as `state_update`.

History is served both as the SDKs ask for it (`POST .../history` with a body: limit, before, metadata filter,
checkpoint, `select`) and as `GET .../history?limit=&before=`, which the official server also answers; a request
that names no limit gets the latest checkpoint only, as the official server answers it (the SDKs send 10).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.server.api_errors import CONFLICT, INVALID, NOT_FOUND, ApiError, not_found
from nexa_research.server.checkpoint_metadata import patch_checkpoint_metadata
from nexa_research.server.context import ServerContext
from nexa_research.server.routes.deps import Ctx, Owner
from nexa_research.server.routes.threads import thread_record
from nexa_research.server.serialize import to_jsonable
from nexa_research.server.thread_stream import publish_state_update
from nexa_research.server.thread_views import checkpoint_ref, empty_state, state_view

router = APIRouter(tags=["threads"])
STATE_FIELDS = ("values", "next", "tasks", "checkpoint", "metadata", "created_at", "parent_checkpoint", "interrupts")


class StateUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    values: dict[str, Any] | list[dict[str, Any]] | None = None
    as_node: str | None = "review_plan"
    checkpoint_id: str | None = None
    checkpoint: dict[str, Any] | None = None


class StatePatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    metadata: dict[str, Any] = Field(description="Merged into the checkpoint's metadata.")
    checkpoint_id: str | None = None
    checkpoint: dict[str, Any] | None = None


class HistoryRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    limit: int = Field(default=1, ge=1, le=1000)
    before: str | dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    select: list[str] | None = Field(default=None, description="State fields to return; `values.<key>` for one key.")


def lookup(thread_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
    configurable = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return RunnableConfig(configurable=configurable)


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
    snapshot = await ctx.runtime.graph.aget_state(lookup(thread_id, checkpoint_id), subgraphs=subgraphs)
    if checkpoint_id and snapshot.metadata is None:  # the saver has no such checkpoint for this thread
        raise not_found("checkpoint", checkpoint_id)
    return state_view(snapshot) if snapshot.values or snapshot.next else empty_state(thread_id)


@router.post("/threads/{thread_id}/state", responses={**NOT_FOUND, **CONFLICT, **INVALID}, summary="Edit the thread's state (e.g. the plan)")
async def update_state(ctx: Ctx, owner: Owner, thread_id: str, body: StateUpdate) -> dict[str, Any]:
    await thread_record(ctx, thread_id, owner)
    if await ctx.store.active_runs_of(thread_id):
        raise ApiError(409, f"thread {thread_id!r} has a run in progress; edit its state when the run is done")
    graph = ctx.runtime.graph
    current = await graph.aget_state(lookup(thread_id))
    if not current.values:
        raise ApiError(409, f"thread {thread_id!r} has no state to edit yet: start a run first")
    if body.as_node is not None and body.as_node not in graph.nodes:
        raise ApiError(422, f"as_node: {body.as_node!r} is not a node; nodes are {', '.join(sorted(graph.nodes))}")
    checkpoint_id = body.checkpoint_id or (body.checkpoint or {}).get("checkpoint_id")
    try:
        config = await graph.aupdate_state(lookup(thread_id, checkpoint_id), body.values, as_node=body.as_node)
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(422, f"values: {exc}") from exc
    state = state_view(await graph.aget_state(lookup(thread_id)))
    await publish_state_update(ctx.redis, thread_id, state, ctx.settings.event_retention_seconds)
    return {"checkpoint": checkpoint_ref(to_jsonable(config))}


@router.patch("/threads/{thread_id}/state", status_code=204, responses={**NOT_FOUND, **CONFLICT, **INVALID},
              summary="Merge metadata into the thread's latest checkpoint (or the one given)")
async def patch_state(ctx: Ctx, owner: Owner, thread_id: str, body: StatePatch) -> Response:
    await thread_record(ctx, thread_id, owner)
    if await ctx.store.active_runs_of(thread_id):
        raise ApiError(409, f"thread {thread_id!r} has a run in progress; patch its state when the run is done")
    checkpoint_id = body.checkpoint_id or (body.checkpoint or {}).get("checkpoint_id")
    if ctx.runtime.checkpointer is None:
        raise ApiError(409, "this server keeps no checkpoints")
    patched = await patch_checkpoint_metadata(ctx.runtime.checkpointer, thread_id, checkpoint_id, body.metadata)
    if patched is None:
        raise not_found("checkpoint", checkpoint_id) if checkpoint_id else ApiError(
            409, f"thread {thread_id!r} has no state yet: start a run first")
    return Response(status_code=204)


@router.post("/threads/{thread_id}/history", responses={**NOT_FOUND, **INVALID}, summary="The thread's checkpoints, newest first")
async def history(ctx: Ctx, owner: Owner, thread_id: str, body: HistoryRequest) -> list[dict[str, Any]]:
    return await _history(ctx, owner, thread_id, body)


@router.get("/threads/{thread_id}/history", responses={**NOT_FOUND, **INVALID}, summary="The thread's checkpoints, newest first")
async def history_get(
    ctx: Ctx, owner: Owner, thread_id: str, limit: int = Query(default=1, ge=1, le=1000), before: str | None = None,
) -> list[dict[str, Any]]:
    return await _history(ctx, owner, thread_id, HistoryRequest(limit=limit, before=before))


async def _history(ctx: ServerContext, owner: str | None, thread_id: str, body: HistoryRequest) -> list[dict[str, Any]]:
    await thread_record(ctx, thread_id, owner)
    _check_select(body.select)
    before = body.before.get("checkpoint_id") if isinstance(body.before, dict) else body.before
    states = []
    snapshots = ctx.runtime.graph.aget_state_history(
        lookup(thread_id, (body.checkpoint or {}).get("checkpoint_id")), filter=body.metadata,
    )
    try:
        async for snapshot in snapshots:
            configurable = snapshot.config["configurable"]
            if configurable.get("checkpoint_ns", ""):
                continue  # subgraph checkpoints: history is the parent's, as time travel uses it
            if before and configurable["checkpoint_id"] >= before:
                # Checked here: the Redis saver ignores a `before` that is not a ULID, and checkpoint ids
                # (uuid6) sort in the order they were written.
                continue
            states.append(_selected(state_view(snapshot), body.select))
            if len(states) >= body.limit:
                break
    except ValueError as exc:  # the Redis saver refuses filter keys it cannot index
        raise ApiError(422, f"metadata: {exc}") from exc
    return states


def _check_select(select: list[str] | None) -> None:
    for field in select or []:
        if field not in STATE_FIELDS and not (field.startswith("values.") and len(field) > len("values.")):
            raise ApiError(422, f"select: unknown field {field!r}; fields are {', '.join(STATE_FIELDS)} "
                                "or values.<key>")


def _selected(state: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    """Only the selected fields; `values.<key>` fields gather into a `values` holding those keys."""
    if not select:
        return state
    picked = {f: state[f] for f in select if f in STATE_FIELDS}
    keys = [f.split(".", 1)[1] for f in select if f.startswith("values.")]
    if keys and "values" not in picked:
        picked["values"] = {k: state["values"][k] for k in keys if k in state["values"]}
    return picked
