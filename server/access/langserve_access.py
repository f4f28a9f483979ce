"""The LangServe routes under the same rules as the runs API: a key sees only its own threads (404 for
others'), knobs stay within the key's tier (403), endpoint knobs are refused, and each call counts against the
key's daily quota (429 with Retry-After). A LangServe call that names a new thread id creates that thread for
the caller, so it shows up (and is resumable) in the runs API too.

LangServe gives a per-request config modifier, which runs before the graph is called; its errors reach the
client as the HTTP status raised here. A /batch request counts once against the quota, like any request.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from nexa_research.server.access.admission import api_key_of, fit_knobs, take_quota
from nexa_research.server.api_errors import ApiError
from nexa_research.server.knobs import knob_values
from nexa_research.server.records import new_id

RUN_PATHS = ("/invoke", "/batch", "/stream", "/stream_log", "/stream_events")


async def admit_langserve_call(config: dict[str, Any], request: Request) -> dict[str, Any]:
    context = getattr(request.app.state, "server", None)
    if context is None:
        return config  # /research mounted on an app of one's own, without the server's keys and records
    key = api_key_of(request)
    owner = key.key_id if key is not None else None
    configurable = dict(config.get("configurable") or {})
    knobs = knob_values(config, None)
    thread_id = configurable.get("thread_id")
    try:
        has_state = False
        if thread_id is not None:
            has_state = await _claim_thread(context, thread_id, owner)
        fitted = fit_knobs(knobs, key, context.access, fill=not has_state)
        if request.url.path.endswith(RUN_PATHS):
            await take_quota(context, key, new_id(), track_running=False)
    except ApiError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.message, headers=exc.headers or None) from exc
    return {**config, "configurable": {**configurable, **fitted}}


async def _claim_thread(context: Any, thread_id: str, owner: str | None) -> bool:
    """Check the caller may use `thread_id` (404 if not), recording it as theirs if it is new; whether it has state."""
    snapshot = await context.runtime.snapshot(thread_id)
    has_state = snapshot is not None and bool(snapshot.values)
    if await context.thread_record(thread_id, owner) is not None:
        return has_state
    if await context.store.get_thread(thread_id) is not None or (owner is not None and has_state):
        raise ApiError(404, f"thread {thread_id!r} not found")
    await context.store.create_thread(thread_id, {}, owner)
    return has_state
