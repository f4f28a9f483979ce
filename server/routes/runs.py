"""Runs: create (background), wait, list, get, join, cancel, delete; threaded and stateless.

A created run is queued for the workers and answered at once (200, the Run, and `Content-Location` pointing at
it). `wait` and `join` answer with the run's final values, `{"__interrupt__": [...]}` when it paused for plan
review, or `{"__error__": {"error", "message"}}` when it failed; `wait` sends `Location` (its join URL) first,
so langgraph_sdk can reconnect if the connection drops while it waits. `POST /runs/batch` creates several
stateless runs at once (all are checked before any is created), and `POST /runs/cancel` cancels runs by id on a
thread, or every run of the caller's that is pending or running.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from nexa_research.server.api_errors import (
    CONFLICT,
    FORBIDDEN,
    INVALID,
    LIMITED,
    NOT_FOUND,
    TOO_LARGE,
    UNAUTHORIZED,
    ApiError,
    not_found,
)
from nexa_research.server.context import ServerContext
from nexa_research.server.lease import request_cancel
from nexa_research.server.records import ACTIVE_STATUSES, FINAL_STATUSES
from nexa_research.server.routes.deps import Ctx, Owner
from nexa_research.server.run_requests import RunCreate, admitted_headers, create_run, run_view, validate_request
from nexa_research.server.run_results import load_result

router = APIRouter(tags=["runs"])
ERRORS = {**NOT_FOUND, **CONFLICT, **INVALID, **TOO_LARGE, **UNAUTHORIZED, **FORBIDDEN, **LIMITED}


async def run_of(ctx: ServerContext, owner: str | None, thread_id: str, run_id: str) -> dict[str, Any]:
    """The run if it is on `thread_id` and the caller owns that thread; 404 otherwise."""
    if await ctx.thread_record(thread_id, owner) is None:
        raise not_found("thread", thread_id)
    run = await ctx.store.get_run(run_id)
    if run is None or run["thread_id"] != thread_id:
        raise not_found("run", run_id)
    return run


async def wait_until_final(ctx: ServerContext, run_id: str) -> dict[str, Any]:
    """The run once it is finished: waits for its log's end (the worker records the run final before it ends the
    log), re-reading the record at every quiet second (a run ended by an older worker has no `wait_ended` copy)."""
    run = await ctx.store.get_run(run_id)
    while run is not None and run["status"] not in FINAL_STATUSES:
        ended = await ctx.log.wait_ended(run_id, block_ms=1000)
        run = await ctx.store.get_run(run_id)
        if ended and run is not None and run["status"] not in FINAL_STATUSES:
            await asyncio.sleep(1)  # ended, yet recorded as running (a record rewritten since): as quiet a second
    if run is None:
        raise not_found("run", run_id)
    return run


async def final_body(ctx: ServerContext, run: dict[str, Any]) -> Any:
    result = await load_result(ctx.redis, run["run_id"])
    if result is not None:
        return result
    if run["status"] == "interrupted":
        return {"__error__": {"error": "Cancelled", "message": f"run {run['run_id']} was cancelled"}}
    snapshot = await ctx.runtime.snapshot(run["thread_id"])
    return {} if snapshot is None else snapshot.values


def _created(run: dict[str, Any], request: Request) -> JSONResponse:
    location = f"/threads/{run['thread_id']}/runs/{run['run_id']}"
    return JSONResponse(run_view(run), headers={"Content-Location": location, **admitted_headers(request)})


@router.post("/threads/{thread_id}/runs", responses=ERRORS, summary="Create a background run on a thread")
async def create_thread_run(ctx: Ctx, request: Request, thread_id: str, body: RunCreate) -> JSONResponse:
    return _created(await create_run(ctx, thread_id, body, request), request)


@router.post("/runs", responses=ERRORS, summary="Create a stateless background run (on a thread of its own)")
async def create_stateless_run(ctx: Ctx, request: Request, body: RunCreate) -> JSONResponse:
    return _created(await create_run(ctx, None, body, request), request)


@router.post("/runs/batch", responses=ERRORS, summary="Create several stateless background runs")
async def create_run_batch(ctx: Ctx, request: Request, body: list[RunCreate] = Body()) -> JSONResponse:
    if not body:
        raise ApiError(422, "body: give at least one run")
    for index, payload in enumerate(body):  # a bad run refuses the batch before any run is created
        try:
            validate_request(payload)
        except ApiError as exc:
            raise ApiError(exc.status, f"[{index}].{exc.message}", exc.headers) from exc
    runs = [run_view(await create_run(ctx, None, payload, request)) for payload in body]
    return JSONResponse(runs, headers=admitted_headers(request))


async def _wait_response(ctx: ServerContext, run: dict[str, Any], request: Request) -> JSONResponse:
    final = await wait_until_final(ctx, run["run_id"])
    location = f"/threads/{run['thread_id']}/runs/{run['run_id']}/join"
    headers = {"Location": location, "Content-Location": location, **admitted_headers(request)}
    return JSONResponse(await final_body(ctx, final), headers=headers)


@router.post("/threads/{thread_id}/runs/wait", responses=ERRORS, summary="Create a run and wait for its final values")
async def wait_thread_run(ctx: Ctx, request: Request, thread_id: str, body: RunCreate) -> JSONResponse:
    return await _wait_response(ctx, await create_run(ctx, thread_id, body, request), request)


@router.post("/runs/wait", responses=ERRORS, summary="Create a stateless run and wait for its final values")
async def wait_stateless_run(ctx: Ctx, request: Request, body: RunCreate) -> JSONResponse:
    return await _wait_response(ctx, await create_run(ctx, None, body, request), request)


@router.get("/threads/{thread_id}/runs", responses=NOT_FOUND, summary="The thread's runs, newest first")
async def list_runs(
    ctx: Ctx, owner: Owner, thread_id: str, limit: int = 10, offset: int = 0, status: str | None = None
) -> list[dict[str, Any]]:
    if await ctx.thread_record(thread_id, owner) is None:
        raise not_found("thread", thread_id)
    runs = [r for r in reversed(await ctx.store.runs_of(thread_id)) if status is None or r["status"] == status]
    return [run_view(r) for r in runs[offset: offset + limit]]


@router.get("/threads/{thread_id}/runs/{run_id}", responses=NOT_FOUND, summary="Get a run")
async def get_run(ctx: Ctx, owner: Owner, thread_id: str, run_id: str) -> dict[str, Any]:
    return run_view(await run_of(ctx, owner, thread_id, run_id))


@router.get("/threads/{thread_id}/runs/{run_id}/join", responses=NOT_FOUND, summary="Wait for a run; its final values")
async def join_run(ctx: Ctx, owner: Owner, thread_id: str, run_id: str) -> Any:
    await run_of(ctx, owner, thread_id, run_id)
    return await final_body(ctx, await wait_until_final(ctx, run_id))


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", responses={**NOT_FOUND, **INVALID, **CONFLICT},
             summary="Cancel a pending or running run (action 'interrupt'; its finished work stays in the checkpoints)")
async def cancel_run(
    ctx: Ctx, owner: Owner, thread_id: str, run_id: str, wait: bool = False,
    action: Literal["interrupt", "rollback"] = "interrupt",
) -> Response:
    run = await run_of(ctx, owner, thread_id, run_id)
    _check_action(action)
    if run["status"] not in ACTIVE_STATUSES:
        raise ApiError(409, f"run {run_id} is {run['status']}; only a pending or running run can be cancelled")
    await _cancel(ctx, run, action)
    if wait:
        try:
            await asyncio.wait_for(wait_until_final(ctx, run_id), timeout=60)
        except TimeoutError as exc:
            raise ApiError(409, f"run {run_id} did not stop within 60 s") from exc
        return JSONResponse(None)
    return Response(status_code=202)


def _check_action(action: str) -> None:
    if action == "rollback":
        raise ApiError(422, "action: 'rollback' is not supported (checkpoints are never rewound); use 'interrupt'")


async def _cancel(ctx: ServerContext, run: dict[str, Any], action: str) -> None:
    await request_cancel(ctx.redis, run["run_id"], action)
    if run["status"] == "pending":
        # No worker has it yet: it is cancelled now. A worker that takes it meanwhile sees the cancel flag at once.
        await ctx.store.update_run(run["run_id"], status="interrupted")
        await ctx.log.end(run["run_id"])


class RunsCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None


@router.post("/runs/cancel", status_code=204, responses={**NOT_FOUND, **INVALID},
             summary="Cancel runs: by ids on a thread, or every pending and/or running run of the caller")
async def cancel_runs(
    ctx: Ctx, owner: Owner, body: RunsCancel, action: Literal["interrupt", "rollback"] = "interrupt",
) -> Response:
    _check_action(action)
    if body.status is not None:
        if body.thread_id is not None or body.run_ids is not None:
            raise ApiError(422, "status: cancels every run with that status; leave out thread_id and run_ids")
        wanted = ACTIVE_STATUSES if body.status == "all" else {body.status}
        runs = [r for r in [await ctx.store.get_run(i) for i in await ctx.store.active_run_ids()]
                if r is not None and r.get("owner") == owner and r["status"] in wanted]
    else:
        if body.thread_id is None:
            raise ApiError(422, "thread_id: give the thread of run_ids (or a status instead)")
        if not body.run_ids:
            raise ApiError(422, "run_ids: give the runs to cancel (or a status instead)")
        runs = [await run_of(ctx, owner, body.thread_id, run_id) for run_id in body.run_ids]
    for run in runs:
        if run["status"] in ACTIVE_STATUSES:  # one that finished meanwhile has nothing left to cancel
            await _cancel(ctx, run, action)
    return Response(status_code=204)


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT},
               summary="Delete a finished run")
async def delete_run(ctx: Ctx, owner: Owner, thread_id: str, run_id: str) -> Response:
    run = await run_of(ctx, owner, thread_id, run_id)
    if run["status"] in ACTIVE_STATUSES:
        raise ApiError(409, f"run {run_id} is {run['status']}: cancel it first")
    await ctx.store.delete_run(run)
    await ctx.log.clear(run_id)
    return Response(status_code=204)
