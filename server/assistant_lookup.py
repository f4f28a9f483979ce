"""Which assistant a request names, and what a stored assistant gives a run.

Every graph has its built-in assistant: the graph name (`nexa_research`) and its fixed uuid5 both name it, it has
no knobs of its own and cannot be edited or deleted. Stored assistants (server/assistant_records.py) are the
caller's own, named by their uuid. A run of a stored assistant takes the assistant's knobs as defaults under its
own: a knob the run sets (in `context` or `config.configurable`) wins. The knobs an assistant gives are checked
as a run's knobs are (server/knobs.py) when it is created or updated, so a bad one is a 422 then, not a failed
run later; its tier and endpoint limits are checked again at each run (server/run_requests.py), on what the run
will actually use, so storing an assistant never gets a key around its tier.
"""

from __future__ import annotations

import uuid
from typing import Any

from redis.asyncio import Redis

from nexa_research.server.api_errors import ApiError, not_found
from nexa_research.server.assistant_records import AssistantConflictError, AssistantStore, synced
from nexa_research.server.knobs import check_knobs, knob_values

GRAPH_ID = "nexa_research"
ASSISTANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"nexa-research:assistant:{GRAPH_ID}"))
CREATED_AT = "2026-01-01T00:00:00+00:00"


def builtin_view() -> dict[str, Any]:
    return {
        "assistant_id": ASSISTANT_ID, "graph_id": GRAPH_ID, "name": GRAPH_ID,
        "description": "Deep research: plans sections, researches them in parallel, writes a cited report.",
        "config": {}, "context": {}, "metadata": {"created_by": "system"}, "version": 1,
        "created_at": CREATED_AT, "updated_at": CREATED_AT,
    }


def is_builtin(assistant_id: str) -> bool:
    return assistant_id in (GRAPH_ID, ASSISTANT_ID)


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def check_assistant_id(assistant_id: str) -> None:
    """404 for an id that can name no assistant (neither the built-in one nor a uuid), before any lookup."""
    if not is_builtin(assistant_id) and not is_uuid(assistant_id):
        raise not_found("assistant", assistant_id)


def check_graph_id(graph_id: str) -> None:
    if graph_id != GRAPH_ID:
        raise ApiError(404, f"graph_id: graph {graph_id!r} not found; this server serves {GRAPH_ID!r}")


async def find_assistant(redis: Redis, owner: str | None, assistant_id: str) -> dict[str, Any]:
    """The assistant `assistant_id` names for `owner`: the built-in one or one of theirs; 404 otherwise."""
    check_assistant_id(assistant_id)
    if is_builtin(assistant_id):
        return builtin_view()
    found = await AssistantStore(redis, owner).get(assistant_id)
    if found is None:
        raise not_found("assistant", assistant_id)
    return found


def checked_assistant_knobs(config: dict[str, Any] | None, context: dict[str, Any] | None) -> dict[str, Any]:
    """The research knobs an assistant would give its runs, validated as a run's are (422 naming the field);
    400 when both `config.configurable` and `context` are given, as the official server answers."""
    try:
        synced(config, context)
    except AssistantConflictError as exc:
        raise ApiError(400, str(exc)) from exc
    return check_knobs(config, context)  # as sent, so the message names the field the caller wrote


def run_defaults(assistant: dict[str, Any], config: dict[str, Any] | None, context: dict[str, Any] | None) -> dict[str, Any]:
    """The assistant's knobs a run does not set itself (in its `context` or `config.configurable`)."""
    own = knob_values(config, context)
    given = knob_values(assistant.get("config"), assistant.get("context"))
    return {k: v for k, v in given.items() if k not in own}
