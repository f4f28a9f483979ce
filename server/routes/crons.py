"""Crons: runs created on a schedule (langgraph_sdk's `client.crons`): create, for a thread or stateless, search,
count, get, update, delete. The scheduler that fires them is server/cron_scheduler.py.

A cron belongs to the API key that made it, as a thread does: another key's cron is a 404 and never appears in
search or count. Its runs are created as that key, so they count against its daily quota when they fire.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.server.access.admission import api_key_of
from nexa_research.server.api_errors import FORBIDDEN, INVALID, NOT_FOUND, ApiError, not_found
from nexa_research.server.assistant_lookup import find_assistant
from nexa_research.server.context import ServerContext
from nexa_research.server.cron_records import CronStore
from nexa_research.server.cron_requests import (
    CRON_FIELDS,
    CronCreate,
    CronPatch,
    assistant_key,
    cron_view,
    new_cron,
    patched_cron,
)
from nexa_research.server.cron_schedule import next_due
from nexa_research.server.routes.deps import Ctx, Owner

router = APIRouter(tags=["crons"])
ERRORS = {**NOT_FOUND, **INVALID, **FORBIDDEN}


class CronCount(BaseModel):
    model_config = ConfigDict(extra="allow")
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: dict[str, Any] | None = None


class CronSearch(CronCount):
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["cron_id", "assistant_id", "thread_id", "next_run_date", "end_time", "created_at",
                     "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


async def _store(ctx: ServerContext, cron: dict[str, Any], reschedule: bool = True) -> dict[str, Any]:
    """Write the cron (new or changed) with its due time; its view."""
    store = CronStore(ctx.redis)
    due = next_due(cron, datetime.now(UTC))
    if await store.get(cron["cron_id"]) is None:
        await store.add(cron, due)
    else:
        cron = await store.put(cron, due, reschedule)
    dates = await store.next_run_dates([cron["cron_id"]])
    return cron_view(cron, dates[cron["cron_id"]])


async def _owned(ctx: ServerContext, owner: str | None, cron_id: str) -> dict[str, Any]:
    cron = await CronStore(ctx.redis).get(cron_id)
    if cron is None or cron.get("owner") != owner:
        raise not_found("cron", cron_id)
    return cron


@router.post("/runs/crons", responses=ERRORS, summary="Create a stateless cron: a run on a new thread at each due time")
async def create_cron(ctx: Ctx, owner: Owner, request: Request, body: CronCreate) -> dict[str, Any]:
    assistant = await find_assistant(ctx.redis, owner, body.assistant_id)  # 404 for one the key does not have
    return await _store(ctx, new_cron(body, None, api_key_of(request), ctx.access, assistant))


@router.post("/threads/{thread_id}/runs/crons", responses=ERRORS, summary="Create a cron that runs on a thread")
async def create_thread_cron(ctx: Ctx, owner: Owner, request: Request, thread_id: str, body: CronCreate) -> dict[str, Any]:
    if await ctx.thread_record(thread_id, owner) is None:
        raise not_found("thread", thread_id)
    assistant = await find_assistant(ctx.redis, owner, body.assistant_id)
    return await _store(ctx, new_cron(body, thread_id, api_key_of(request), ctx.access, assistant))


@router.get("/runs/crons/{cron_id}", responses=NOT_FOUND, summary="Get a cron")
async def get_cron(ctx: Ctx, owner: Owner, cron_id: str) -> dict[str, Any]:
    cron = await _owned(ctx, owner, cron_id)
    return cron_view(cron, (await CronStore(ctx.redis).next_run_dates([cron_id]))[cron_id])


@router.patch("/runs/crons/{cron_id}", responses=ERRORS, summary="Change a cron's schedule, end, payload or metadata")
async def patch_cron(ctx: Ctx, owner: Owner, request: Request, cron_id: str, body: CronPatch) -> dict[str, Any]:
    cron = await _owned(ctx, owner, cron_id)
    assistant = await find_assistant(ctx.redis, owner, cron["payload"].get("assistant_id") or cron["assistant_id"])
    cron, reschedule = patched_cron(cron, body, api_key_of(request), ctx.access, assistant)
    return await _store(ctx, cron, reschedule)


@router.delete("/runs/crons/{cron_id}", status_code=204, responses=NOT_FOUND, summary="Delete a cron: it fires no more")
async def delete_cron(ctx: Ctx, owner: Owner, cron_id: str) -> Response:
    await _owned(ctx, owner, cron_id)
    await CronStore(ctx.redis).delete(cron_id)
    return Response(status_code=204)


async def _matching(ctx: ServerContext, owner: str | None, body: CronCount) -> list[dict[str, Any]]:
    """The caller's crons matching `body`, as views, newest first."""
    wanted_assistant = assistant_key(body.assistant_id) if body.assistant_id else None
    crons = [c for c in await CronStore(ctx.redis).all() if c.get("owner") == owner
             and (wanted_assistant is None or c["assistant_id"] == wanted_assistant)
             and (body.thread_id is None or c["thread_id"] == body.thread_id)
             and (body.enabled is None or c["enabled"] == body.enabled)
             and all(k in c["metadata"] and c["metadata"][k] == v for k, v in (body.metadata or {}).items())]
    dates = await CronStore(ctx.redis).next_run_dates([c["cron_id"] for c in crons])
    return [cron_view(c, dates[c["cron_id"]]) for c in reversed(crons)]


@router.post("/runs/crons/search", responses=INVALID, summary="Search crons by assistant, thread, metadata")
async def search_crons(ctx: Ctx, owner: Owner, body: CronSearch) -> list[dict[str, Any]]:
    unknown = [f for f in body.select or [] if f not in CRON_FIELDS]
    if unknown:
        raise ApiError(422, f"select: unknown field {unknown[0]!r}; fields are {', '.join(CRON_FIELDS)}")
    found = await _matching(ctx, owner, body)
    if body.sort_by is not None or body.sort_order == "asc":
        field = body.sort_by or "created_at"
        found.sort(key=lambda c: (c[field] is not None, c[field] or ""), reverse=body.sort_order != "asc")
    page = found[body.offset: body.offset + body.limit]
    return [{k: c[k] for k in body.select} for c in page] if body.select else page


@router.post("/runs/crons/count", summary="Count crons by assistant, thread, metadata")
async def count_crons(ctx: Ctx, owner: Owner, body: CronCount) -> int:
    return len(await _matching(ctx, owner, body))
