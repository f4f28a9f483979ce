"""Threads: create, get, search, count, update, delete, prune and copy. Their state and history: thread_state.py.

Search and count see only the caller's threads (a thread belongs to the API key that created it). Search sorts
by `updated_at`, newest first, unless asked otherwise, and returns only the `select`ed fields when given.
Delete and prune remove a thread one way (server/thread_prune.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.server.api_errors import CONFLICT, INVALID, NOT_FOUND, ApiError, not_found
from nexa_research.server.context import ServerContext
from nexa_research.server.lease import request_cancel
from nexa_research.server.records import ACTIVE_STATUSES
from nexa_research.server.routes.deps import Ctx, Owner
from nexa_research.server.thread_copy import copy_checkpoints
from nexa_research.server.thread_prune import prune_threads, remove_thread
from nexa_research.server.thread_views import thread_view

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
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class ThreadPrune(BaseModel):
    model_config = ConfigDict(extra="allow")
    thread_ids: list[str] = Field(max_length=1000)
    strategy: Literal["delete", "keep_latest"] = "delete"


THREAD_FIELDS = ("thread_id", "created_at", "updated_at", "metadata", "config", "status", "values", "interrupts",
                 "error")


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


class ThreadCount(BaseModel):
    model_config = ConfigDict(extra="allow")
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None


async def _matching(
    ctx: ServerContext, owner: str | None, ids: list[str] | None, body: ThreadCount
) -> AsyncIterator[dict[str, Any]]:
    """The caller's threads matching `body`, as views, most recently updated first."""
    for thread_id in ids if ids is not None else await ctx.store.all_thread_ids():
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
        yield view


@router.post("/threads/search", responses=INVALID, summary="Search threads by ids, metadata, values and status")
async def search_threads(ctx: Ctx, owner: Owner, body: ThreadSearch) -> list[dict[str, Any]]:
    unknown = [f for f in body.select or [] if f not in THREAD_FIELDS]
    if unknown:
        raise ApiError(422, f"select: unknown field {unknown[0]!r}; fields are {', '.join(THREAD_FIELDS)}")
    filters = ThreadCount(metadata=body.metadata, values=body.values, status=body.status)
    found: list[dict[str, Any]] = []
    if body.sort_by in (None, "updated_at") and body.sort_order in (None, "desc"):
        async for view in _matching(ctx, owner, body.ids, filters):  # already in this order: stop at the page's end
            found.append(view)
            if len(found) >= body.offset + body.limit:
                break
    else:
        found = [view async for view in _matching(ctx, owner, body.ids, filters)]
        found.sort(key=lambda v: v[body.sort_by or "updated_at"], reverse=body.sort_order != "asc")
    page = found[body.offset: body.offset + body.limit]
    return [{k: v[k] for k in body.select} for v in page] if body.select else page


@router.post("/threads/count", summary="Count threads by metadata, values and status")
async def count_threads(ctx: Ctx, owner: Owner, body: ThreadCount) -> int:
    return len([view async for view in _matching(ctx, owner, None, body)])


def _contains(whole: dict[str, Any], part: dict[str, Any]) -> bool:
    return all(k in whole and whole[k] == v for k, v in part.items())


@router.post("/threads/{thread_id}/copy", responses={**NOT_FOUND, **CONFLICT}, summary="Copy a thread and its checkpoints")
async def copy_thread(ctx: Ctx, owner: Owner, thread_id: str) -> dict[str, Any]:
    source = await thread_record(ctx, thread_id, owner)
    if await ctx.store.active_runs_of(thread_id):
        raise ApiError(409, f"thread {thread_id!r} has a run in progress; copy it when the run is done")
    record, _ = await ctx.store.create_thread(None, dict(source.get("metadata") or {}), owner)
    if ctx.runtime.checkpointer is not None:
        await copy_checkpoints(ctx.runtime.checkpointer, thread_id, record["thread_id"])
    return await view_of(ctx, record)


@router.delete("/threads/{thread_id}", status_code=204, responses=NOT_FOUND, summary="Delete a thread, its runs and checkpoints")
async def delete_thread(ctx: Ctx, owner: Owner, thread_id: str) -> Response:
    await thread_record(ctx, thread_id, owner)
    for run in await ctx.store.active_runs_of(thread_id):
        await request_cancel(ctx.redis, run["run_id"], "interrupt")
    await remove_thread(ctx, thread_id)
    return Response(status_code=204)


@router.post("/threads/prune", responses={**CONFLICT, **INVALID},
             summary="Delete threads, or keep only their latest checkpoints (keep_latest)")
async def prune(ctx: Ctx, owner: Owner, body: ThreadPrune) -> dict[str, int]:
    return {"pruned_count": await prune_threads(ctx, owner, body.thread_ids, body.strategy)}
