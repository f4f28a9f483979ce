"""Assistants: the graph's built-in one, and the caller's stored ones with their versions.

The built-in assistant (the graph name `nexa_research` or its fixed uuid5) has no knobs of its own; it cannot be
edited (409: create one instead) or deleted (409). Stored assistants are what Studio's "Manage assistants" and
`client.assistants.create/update/delete/set_latest` make: named defaults for runs (another model, more
sections), kept in Redis per API key (server/assistant_records.py), each update a new version. Their knobs are
checked as a run's are when they are stored: an unknown or invalid one is a 422 naming the field, one over the
key's tier or an endpoint knob the server does not accept a 403; runs check them again (server/run_requests.py).

Deleting a stored assistant deletes its crons, and with `delete_threads=true` the caller's threads it ran on.
Search and count see the built-in assistant and the caller's own, with the official server's filters (graph_id,
a name substring, metadata containment), order (newest first unless `sort_by`), `select` and pages
(`X-Pagination-Next` when there are more). The context schema of every assistant is the research knobs; Studio's
drawing and schema routes are in assistant_graphs.py.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.server.access.admission import api_key_of, fit_knobs
from nexa_research.server.api_errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, ApiError, not_found
from nexa_research.server.assistant_lookup import (
    ASSISTANT_ID,
    GRAPH_ID,
    builtin_view,
    check_graph_id,
    checked_assistant_knobs,
    find_assistant,
    is_builtin,
    is_uuid,
)
from nexa_research.server.assistant_records import VERSION_FIELDS, AssistantChanges, AssistantStore
from nexa_research.server.context import ServerContext
from nexa_research.server.cron_records import CronStore
from nexa_research.server.lease import request_cancel
from nexa_research.server.records import new_id
from nexa_research.server.routes import assistant_graphs
from nexa_research.server.routes.deps import Ctx, Owner
from nexa_research.server.store_records import StoreInputError, value_matches
from nexa_research.server.thread_prune import remove_thread

__all__ = ["ASSISTANT_ID", "GRAPH_ID", "router"]  # the graph's names, for /info, MCP and crons

ASSISTANT_FIELDS = ("assistant_id", "graph_id", "name", "description", "config", "context", "created_at",
                    "updated_at", "metadata", "version")
BUILTIN_FIXED = (f"assistant {GRAPH_ID!r} is the graph's built-in assistant and cannot be edited; create an "
                 f"assistant with graph_id {GRAPH_ID!r} and your knobs instead")

router = APIRouter(tags=["assistants"])


class AssistantCount(BaseModel):
    model_config = ConfigDict(extra="allow")
    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None


class AssistantSearch(AssistantCount):
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class AssistantPatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    graph_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=10_000)


class AssistantCreate(AssistantPatch):
    graph_id: str  # required here
    assistant_id: str | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"


class VersionSearch(BaseModel):
    model_config = ConfigDict(extra="allow")
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class LatestVersion(BaseModel):
    version: int


def _checked_select(select: list[str] | None) -> list[str] | None:
    unknown = [f for f in select or [] if f not in ASSISTANT_FIELDS]
    if unknown:
        raise ApiError(422, f"select: unknown field {unknown[0]!r}; fields are {', '.join(ASSISTANT_FIELDS)}")
    return select or None


def _checked_knobs(ctx: ServerContext, request: Request, config: dict[str, Any] | None,
                   context: dict[str, Any] | None) -> None:
    """The knobs an assistant stores: valid (422), accepted from this caller and within its tier (403)."""
    knobs = checked_assistant_knobs(config, context)
    fit_knobs(knobs, api_key_of(request), ctx.access, fill=False)


def _metadata_matches(metadata: dict[str, Any], wanted: dict[str, Any] | None) -> bool:
    """Containment, as the official server filters metadata (`$` comparisons as the store reads them)."""
    try:
        return value_matches(metadata, wanted or {})
    except StoreInputError as exc:
        raise ApiError(422, f"metadata.{str(exc).removeprefix('filter.')}") from exc


async def _matching(ctx: ServerContext, owner: str | None, body: AssistantCount) -> list[dict[str, Any]]:
    """The built-in assistant and the caller's own that match the filters, newest first."""
    if body.graph_id is not None:
        check_graph_id(body.graph_id)
    found = [builtin_view(), *await AssistantStore(ctx.redis, owner).all()]
    return sorted((a for a in found if (body.name is None or body.name.lower() in a["name"].lower())
                   and _metadata_matches(a["metadata"], body.metadata)),
                  key=lambda a: a["created_at"], reverse=True)


@router.post("/assistants/search", responses=INVALID, summary="Search the built-in and your stored assistants")
async def search_assistants(ctx: Ctx, owner: Owner, body: AssistantSearch) -> JSONResponse:
    select = _checked_select(body.select)
    found = await _matching(ctx, owner, body)
    if body.sort_by is not None:
        def key(a: dict[str, Any]) -> str:
            value = str(a.get(body.sort_by or "") or "")
            return value.lower() if body.sort_by in ("name", "graph_id") else value
        found.sort(key=key, reverse=body.sort_order != "asc")
    page = found[body.offset: body.offset + body.limit]
    more = len(found) > body.offset + body.limit
    headers = {"X-Pagination-Total": str(len(found))} | ({"X-Pagination-Next": str(body.offset + body.limit)} if more else {})
    return JSONResponse([{k: a.get(k) for k in select} for a in page] if select else page, headers=headers)


@router.post("/assistants/count", responses=INVALID, summary="Count the built-in and your stored assistants")
async def count_assistants(ctx: Ctx, owner: Owner, body: AssistantCount) -> int:
    return len(await _matching(ctx, owner, body))


@router.post("/assistants", responses={**NOT_FOUND, **CONFLICT, **INVALID, **FORBIDDEN}, summary="Create an assistant")
async def create_assistant(ctx: Ctx, owner: Owner, request: Request, body: AssistantCreate) -> dict[str, Any]:
    check_graph_id(body.graph_id)
    assistant_id = body.assistant_id
    if assistant_id is not None and is_builtin(assistant_id):
        if body.if_exists == "do_nothing":
            return builtin_view()
        raise ApiError(409, f"assistant {assistant_id!r} already exists")
    if assistant_id is not None and not is_uuid(assistant_id):
        raise ApiError(422, f"assistant_id: {assistant_id!r} is not a UUID")
    _checked_knobs(ctx, request, body.config, body.context)
    assistant, created = await AssistantStore(ctx.redis, owner).create(
        assistant_id or new_id(), body.graph_id, body.config or {}, body.context, body.metadata or {},
        body.name or "Untitled", body.description)
    if not created and body.if_exists == "raise":
        raise ApiError(409, f"assistant {assistant_id!r} already exists")
    return assistant


@router.get("/assistants/{assistant_id}", responses=NOT_FOUND, summary="Get an assistant")
async def get_assistant(ctx: Ctx, owner: Owner, assistant_id: str) -> dict[str, Any]:
    return await find_assistant(ctx.redis, owner, assistant_id)


@router.patch("/assistants/{assistant_id}", responses={**NOT_FOUND, **CONFLICT, **INVALID, **FORBIDDEN},
              summary="Update an assistant: a new version, made the latest")
async def patch_assistant(ctx: Ctx, owner: Owner, request: Request, assistant_id: str, body: AssistantPatch) -> dict[str, Any]:
    await find_assistant(ctx.redis, owner, assistant_id)
    if is_builtin(assistant_id):
        raise ApiError(409, BUILTIN_FIXED)
    if body.graph_id is not None:
        check_graph_id(body.graph_id)
    _checked_knobs(ctx, request, body.config, body.context)
    changes = AssistantChanges(body.config, body.context, body.metadata, body.name, body.description)
    updated = await AssistantStore(ctx.redis, owner).update(assistant_id, changes)
    if updated is None:
        raise not_found("assistant", assistant_id)  # deleted meanwhile
    return updated


@router.delete("/assistants/{assistant_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT},
               summary="Delete a stored assistant and its versions (the built-in one cannot be)")
async def delete_assistant(
    ctx: Ctx, owner: Owner, assistant_id: str,
    delete_threads: bool = Query(default=False, description="Also delete your threads it ran on (metadata.assistant_id)"),
) -> Response:
    await find_assistant(ctx.redis, owner, assistant_id)
    if is_builtin(assistant_id):
        raise ApiError(409, f"assistant {assistant_id!r} is the graph's built-in assistant and cannot be deleted")
    if not await AssistantStore(ctx.redis, owner).delete(assistant_id):
        raise not_found("assistant", assistant_id)
    crons = CronStore(ctx.redis)
    for cron in await crons.all():  # its crons go with it, as the official server deletes them
        if cron.get("owner") == owner and cron.get("assistant_id") == assistant_id:
            await crons.delete(cron["cron_id"])
    if delete_threads:
        await _delete_threads_of(ctx, owner, assistant_id)
    return Response(status_code=204)


async def _delete_threads_of(ctx: ServerContext, owner: str | None, assistant_id: str) -> None:
    """The caller's threads the assistant ran on, deleted as DELETE /threads/{id} deletes them."""
    for thread_id in await ctx.store.all_thread_ids():
        record = await ctx.store.get_thread(thread_id)
        if record is None or record.get("owner") != owner or (record.get("metadata") or {}).get("assistant_id") != assistant_id:
            continue
        for run in await ctx.store.active_runs_of(thread_id):
            await request_cancel(ctx.redis, run["run_id"], "interrupt")
        await remove_thread(ctx, thread_id)


@router.post("/assistants/{assistant_id}/versions", responses=NOT_FOUND, summary="The assistant's versions, newest first")
async def assistant_versions(ctx: Ctx, owner: Owner, assistant_id: str, body: VersionSearch) -> list[dict[str, Any]]:
    assistant = await find_assistant(ctx.redis, owner, assistant_id)
    if is_builtin(assistant_id):
        versions = [{k: assistant[k] for k in VERSION_FIELDS}]
    else:
        versions = await AssistantStore(ctx.redis, owner).versions(assistant_id) or []
    matching = [v for v in versions if _metadata_matches(v["metadata"], body.metadata)]
    return matching[body.offset: body.offset + body.limit]


@router.post("/assistants/{assistant_id}/latest", responses=NOT_FOUND, summary="Make a version the latest")
async def set_latest_version(ctx: Ctx, owner: Owner, assistant_id: str, body: LatestVersion) -> dict[str, Any]:
    assistant = await find_assistant(ctx.redis, owner, assistant_id)
    if is_builtin(assistant_id):
        if body.version != 1:
            raise ApiError(404, f"version: assistant {assistant_id!r} has version 1 only, not {body.version}")
        return assistant
    latest = await AssistantStore(ctx.redis, owner).set_latest(assistant_id, body.version)
    if latest is None:
        raise ApiError(404, f"version: assistant {assistant_id!r} has no version {body.version}")
    return latest


router.include_router(assistant_graphs.router)  # /graph, /schemas, /subgraphs: after the routes above, as before
