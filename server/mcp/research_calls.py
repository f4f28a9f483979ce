"""What the MCP tools do: queue a research run exactly as the runs API does, follow it, answer with its report.

`research` goes through `create_run` (server/run_requests.py), the code behind `POST /runs`: the same knob
validation, the caller's tier limits and daily quota, a thread owned by the caller's key, the run record and the
job queue, so a worker executes it and the report is the one `runs.wait` would have returned. While the run goes,
its event log (server/event_log.py) is read for progress. A refusal (bad knob, tier, quota) or a failed run is
a `ToolRefusal`: the endpoint answers it as an MCP tool error carrying the reason, never as a protocol error.

If the caller cancels the call (or its connection goes), the run is cancelled too: nobody is left to read it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import ValidationError
from starlette.requests import Request

from nexa_research.report import Report
from nexa_research.server.access.admission import owner_of
from nexa_research.server.api_errors import ApiError
from nexa_research.server.context import ServerContext
from nexa_research.server.lease import request_cancel
from nexa_research.server.mcp.run_progress import Notification, RunProgress
from nexa_research.server.mcp.tools import ToolArgumentError, argument_message, research_arguments
from nexa_research.server.records import ACTIVE_STATUSES
from nexa_research.server.routes.assistants import GRAPH_ID
from nexa_research.server.routes.runs import final_body, wait_until_final
from nexa_research.server.run_requests import RunCreate, create_run

Notify = Callable[[Notification], Awaitable[None]]


class ToolRefusal(Exception):
    """The call cannot give a report; the message says why (and names the argument when one is at fault)."""


@dataclass(frozen=True)
class ReportAnswer:
    report: Report
    thread_id: str
    run_id: str | None = None


async def run_research(ctx: ServerContext, request: Request, arguments: dict[str, Any], notify: Notify) -> ReportAnswer:
    try:
        topic, knobs = research_arguments(arguments)
        body = RunCreate(assistant_id=GRAPH_ID, input={"topic": topic}, context=knobs, metadata={"via": "mcp"})
        run = await create_run(ctx, None, body, request)
    except ToolArgumentError as exc:
        raise ToolRefusal(str(exc)) from exc
    except ApiError as exc:
        raise ToolRefusal(f"refused ({exc.status}): {argument_message(exc.message)}") from exc
    run_id, thread_id = run["run_id"], run["thread_id"]
    try:
        await _follow(ctx, run_id, notify)
        final = await wait_until_final(ctx, run_id)
    except BaseException:
        with anyio.CancelScope(shield=True):
            current = await ctx.store.get_run(run_id)
            if current is not None and current["status"] in ACTIVE_STATUSES:
                await request_cancel(ctx.redis, run_id, "interrupt")
        raise
    values = await final_body(ctx, final)
    if final["status"] != "success" or "__error__" in values:
        error = values.get("__error__") or {}
        raise ToolRefusal(f"run {run_id} ended {final['status']}: {error.get('message') or 'no report was written'}")
    return ReportAnswer(_report_of(values, thread_id), thread_id, run_id)


async def stored_report(ctx: ServerContext, request: Request, thread_id: Any) -> ReportAnswer:
    """The report of a thread the caller's key owns (another key's thread is 'not found', as in the runs API)."""
    if not isinstance(thread_id, str) or not thread_id:
        raise ToolRefusal("thread_id: expected a thread id (a string)")
    if await ctx.thread_record(thread_id, owner_of(request)) is None:
        raise ToolRefusal(f"thread_id: thread {thread_id!r} not found")
    snapshot = await ctx.runtime.snapshot(thread_id)
    values = snapshot.values if snapshot is not None else {}
    return ReportAnswer(_report_of(values or {}, thread_id), thread_id)


async def _follow(ctx: ServerContext, run_id: str, notify: Notify) -> None:
    """Notify progress from the run's log until its end marker (a run that never starts is caught by the wait)."""
    progress = RunProgress()
    async for event in ctx.log.follow(run_id, "0", block_ms=1000):
        if event is None:
            run = await ctx.store.get_run(run_id)
            if run is None or run["status"] not in ACTIVE_STATUSES:
                return
            continue
        if event.event == "custom":
            notification = progress.on_event(event.data)
            if notification is not None:
                await notify(notification)


def _report_of(values: dict[str, Any], thread_id: str) -> Report:
    report = values.get("report")
    if not report:
        raise ToolRefusal(f"thread {thread_id!r} has no finished report")
    try:
        return Report.model_validate(report)
    except ValidationError as exc:
        raise ToolRefusal(f"thread {thread_id!r} holds a report this server cannot read: {exc.errors()[0]['msg']}") from exc
