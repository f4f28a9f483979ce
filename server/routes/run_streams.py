"""Streaming runs over SSE: create-and-stream, and join a run's stream (again) from any API process.

Events come from the run's event log in Redis (server/event_log.py), each with its log entry id as the SSE
`id:`; the first is `metadata` {run_id, attempt}. A quiet stream sends `: heartbeat` comments. The response
carries `Location: /threads/{t}/runs/{r}/stream`, which langgraph_sdk follows with `Last-Event-ID` after a
dropped connection, so the client resumes right after the last event it got. The stream ends (the connection
closes) when the run ends. With `on_disconnect="cancel"` (or `cancel_on_disconnect` on a join) a client that
goes away cancels the run. A thread's stream (every run on it, and its state updates): server/thread_stream.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from nexa_research.server.api_errors import INVALID, ApiError, Responses, not_found
from nexa_research.server.context import ServerContext
from nexa_research.server.execution import requested_modes
from nexa_research.server.lease import request_cancel
from nexa_research.server.records import FINAL_STATUSES
from nexa_research.server.routes.deps import Ctx, Owner
from nexa_research.server.routes.runs import ERRORS, NOT_FOUND, run_of
from nexa_research.server.run_requests import RunCreate, admitted_headers, create_run
from nexa_research.server.thread_stream import ThreadStream, parse_thread_modes, resume_point

router = APIRouter(tags=["runs"])
ALWAYS_SENT = frozenset({"metadata", "error"})
SSE_RESPONSE: Responses = {200: {"description": "Server-sent events", "content": {"text/event-stream": {}}}}


async def sse_events(
    ctx: ServerContext, run: dict[str, Any], after: str, modes: list[str], cancel_on_disconnect: bool
) -> AsyncIterator[str]:
    run_id = run["run_id"]
    wanted = set(modes)
    finished = False
    try:
        async for event in ctx.log.follow(run_id, after, block_ms=int(ctx.settings.heartbeat_seconds * 1000)):
            if event is None:
                current = await ctx.store.get_run(run_id)
                if current is None or (current["status"] in FINAL_STATUSES and not await ctx.log.exists(run_id)):
                    finished = True
                    return  # the run is gone, or finished so long ago that its events expired
                yield ": heartbeat\n\n"
                continue
            mode = event.event.split("|", 1)[0]
            if mode in ALWAYS_SENT or mode in wanted:
                yield event.sse()
        finished = True
    finally:
        if not finished and cancel_on_disconnect:
            current = await ctx.store.get_run(run_id)
            if current is not None and current["status"] not in FINAL_STATUSES:
                await request_cancel(ctx.redis, run_id, "interrupt")


def _stream_response(
    ctx: ServerContext, run: dict[str, Any], after: str, modes: list[str], cancel: bool, request: Request
) -> StreamingResponse:
    location = f"/threads/{run['thread_id']}/runs/{run['run_id']}/stream"
    return StreamingResponse(
        sse_events(ctx, run, after, modes, cancel),
        media_type="text/event-stream",
        headers={"Location": location, "Content-Location": f"/threads/{run['thread_id']}/runs/{run['run_id']}",
                 "Cache-Control": "no-store", "X-Accel-Buffering": "no", **admitted_headers(request)},
    )


@router.post("/threads/{thread_id}/runs/stream", responses={**ERRORS, **SSE_RESPONSE},
             summary="Create a run on a thread and stream its events")
async def stream_thread_run(ctx: Ctx, request: Request, thread_id: str, body: RunCreate) -> StreamingResponse:
    run = await create_run(ctx, thread_id, body, request)
    return _stream_response(ctx, run, "0", requested_modes(run["kwargs"]), body.on_disconnect == "cancel", request)


@router.post("/runs/stream", responses={**ERRORS, **SSE_RESPONSE}, summary="Create a stateless run and stream its events")
async def stream_stateless_run(ctx: Ctx, request: Request, body: RunCreate) -> StreamingResponse:
    run = await create_run(ctx, None, body, request)
    return _stream_response(ctx, run, "0", requested_modes(run["kwargs"]), body.on_disconnect == "cancel", request)


@router.get("/threads/{thread_id}/runs/{run_id}/stream", responses={**NOT_FOUND, **SSE_RESPONSE},
            summary="Join a run's stream; with Last-Event-ID, resume after that event")
async def join_stream(
    ctx: Ctx,
    owner: Owner,
    request: Request,
    thread_id: str,
    run_id: str,
    stream_mode: list[str] | None = Query(default=None),
    cancel_on_disconnect: bool = False,
    last_event_id: str | None = Header(default=None),
) -> StreamingResponse:
    run = await run_of(ctx, owner, thread_id, run_id)
    stream_mode = [m for m in stream_mode or [] if m]  # the SDK sends an empty value when it has none
    modes = requested_modes({"stream_mode": stream_mode}) if stream_mode else requested_modes(run["kwargs"])
    after = last_event_id if last_event_id and last_event_id != "-1" else "0"
    return _stream_response(ctx, run, after, modes, cancel_on_disconnect, request)


@router.get("/threads/{thread_id}/stream", responses={**NOT_FOUND, **INVALID, **SSE_RESPONSE},
            summary="Follow a thread: its runs' events as they come, each run's end, its state updates")
async def join_thread_stream(
    ctx: Ctx,
    owner: Owner,
    thread_id: str,
    stream_mode: list[str] | None = Query(default=None, description="run_modes (default), lifecycle, state_update"),
    stream_modes: list[str] | None = Query(default=None, description="The same, by the name the server docs use"),
    last_event_id: str | None = Header(default=None),
) -> StreamingResponse:
    if await ctx.thread_record(thread_id, owner) is None:
        raise not_found("thread", thread_id)
    try:
        modes = parse_thread_modes([*(stream_mode or []), *(stream_modes or [])])
    except ValueError as exc:
        raise ApiError(422, f"stream_mode: {exc}") from exc
    try:
        after = resume_point(last_event_id)
    except ValueError as exc:
        raise ApiError(422, f"Last-Event-ID: {last_event_id!r} is not an event id of this server") from exc
    follow = ThreadStream(ctx.redis, ctx.store, thread_id, modes, after)

    async def sse() -> AsyncIterator[str]:
        block_ms = int(min(ctx.settings.heartbeat_seconds, 1.0) * 1000)  # new runs are looked for this often
        quiet = 0.0
        async for event in follow.events(block_ms):
            if event is not None:
                quiet = 0.0
                yield event.sse()
                continue
            quiet += block_ms / 1000
            if quiet >= ctx.settings.heartbeat_seconds:
                quiet = 0.0
                yield ": heartbeat\n\n"

    return StreamingResponse(sse(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
