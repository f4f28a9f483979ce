"""`GET /threads/{thread_id}/report`: a finished thread's report as a page for a browser or a chat UI (HTML), as
Markdown, or as the report's JSON.

`?format=html|markdown|json` chooses; without it the Accept header does (a browser asks for text/html first and
gets the page), and anything else gets JSON. The thread must be the caller's, as for every thread route (404
otherwise, so another key cannot even learn that it exists); a thread without a finished report, or with a run in
progress, is a 409 that says what the thread is doing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from nexa_research.errors import ResearchInputError
from nexa_research.report_formats import FORMATS, ReportFormat, report_format
from nexa_research.server.api_errors import CONFLICT, INVALID, NOT_FOUND, ApiError, Responses, not_found
from nexa_research.server.routes.deps import Ctx, Owner
from nexa_research.stored_report import ReportNotReady, finished_report

router = APIRouter(tags=["threads"])

_BY_MEDIA_TYPE = {"text/html": "html", "application/xhtml+xml": "html", "text/markdown": "markdown",
                  "application/json": "json"}
# The page is self-contained: nothing may load from anywhere, and no script runs, whatever a source's text held.
_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_OK: Responses = {200: {"description": "The report", "content": {f.media_type.split(";")[0]: {} for f in FORMATS.values()}}}


def negotiated_format(accept: str | None) -> str:
    """The format the Accept header prefers among ours (highest q, then first listed); JSON when none is named."""
    best: tuple[float, int, str] | None = None
    for position, media_range in enumerate((accept or "").split(",")):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        name = _BY_MEDIA_TYPE.get(media_type.lower())
        if name is None:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0  # a malformed weight counts as "not acceptable", as RFC 9110 reads it
        if quality > 0 and (best is None or (quality, -position) > (best[0], -best[1])):
            best = (quality, position, name)
    return best[2] if best else "json"


def _chosen(requested: str | None, accept: str | None) -> ReportFormat:
    try:
        return report_format(requested if requested is not None else negotiated_format(accept))
    except ResearchInputError as exc:
        raise ApiError(422, str(exc)) from exc


@router.get(
    "/threads/{thread_id}/report", response_class=Response, responses={**_OK, **NOT_FOUND, **CONFLICT, **INVALID},
    summary="The finished report of a thread: ?format=html|markdown|json, else by the Accept header",
)
async def get_report(
    ctx: Ctx,
    owner: Owner,
    thread_id: str,
    requested: Annotated[str | None, Query(alias="format", description="html, markdown or json")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    chosen = _chosen(requested, accept)
    if await ctx.thread_record(thread_id, owner) is None:
        raise not_found("thread", thread_id)
    if await ctx.store.active_runs_of(thread_id):
        raise ApiError(409, f"thread {thread_id!r} has a run in progress: its report is ready when the run is done")
    try:
        report = finished_report(thread_id, await ctx.runtime.snapshot(thread_id))
    except ReportNotReady as exc:
        raise ApiError(409, str(exc)) from exc
    headers = {"Vary": "Accept", "X-Content-Type-Options": "nosniff"}
    if chosen.name == "html":
        headers["Content-Security-Policy"] = _PAGE_POLICY
    return Response(chosen.render(report), media_type=chosen.media_type, headers=headers)
