"""Validation of what a run request carries: its input (a topic or a chat), its command, its knobs (config/context).

Everything is checked in the API process, before a run is queued, so a bad request is a 422 naming the field
and never a failed run on a worker.
"""

from __future__ import annotations

from typing import Any

from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError
from nexa_research.nodes.chat_messages import topic_of_input
from nexa_research.server.api_errors import ApiError
from nexa_research.state import validate_topic

# `configurable` keys LangGraph or the SDK may carry that are not research knobs.
LANGGRAPH_KEYS = frozenset({
    "thread_id", "checkpoint_id", "checkpoint_ns", "checkpoint_map", "run_id", "assistant_id", "graph_id",
    "user_id", "langgraph_auth_user", "langgraph_auth_user_id", "langgraph_auth_permissions", "__pregel_task_id",
})


def check_knobs(config: dict[str, Any] | None, context: dict[str, Any] | None) -> dict[str, Any]:
    """The research knobs of a request, validated; unknown keys and bad values are a 422 naming the field."""
    names = ResearchConfig.field_names()
    if config is not None and not isinstance(config, dict):
        raise ApiError(422, "config: expected an object")
    configurable = (config or {}).get("configurable") or {}
    if not isinstance(configurable, dict):
        raise ApiError(422, "config.configurable: expected an object")
    if context is not None and not isinstance(context, dict):
        raise ApiError(422, "context: expected an object")
    for where, values, allowed in (("config.configurable", configurable, names | LANGGRAPH_KEYS),
                                   ("context", context or {}, names)):
        unknown = sorted(k for k in values if k not in allowed and not k.startswith("__"))
        if unknown:
            raise ApiError(422, f"{where}.{unknown[0]}: unknown research knob; knobs are {', '.join(sorted(names))}")
    knobs = knob_values(config, context)
    try:
        ResearchConfig.resolve(knobs)  # the same knobs under the same environment are checked once per process
    except ResearchInputError as exc:
        raise ApiError(422, str(exc)) from exc
    return knobs


def knob_values(config: dict[str, Any] | None, context: dict[str, Any] | None) -> dict[str, Any]:
    """The research knobs set in `config.configurable`, overlaid by those in `context` (unset ones left out)."""
    names = ResearchConfig.field_names()
    knobs = {k: v for k, v in ((config or {}).get("configurable") or {}).items() if k in names and v is not None}
    knobs.update({k: v for k, v in (context or {}).items() if k in names and v is not None})
    return knobs


def check_input(payload: Any) -> dict[str, Any]:
    """The graph input: {"topic": str} or a chat, {"messages": [...]}, whose last human message is the topic; the
    topic non-empty and within its size limit (nodes/chat_messages.topic_of_input decides as the graph does)."""
    if not isinstance(payload, dict):
        raise ApiError(422, "input: expected an object like {\"topic\": \"...\"} or {\"messages\": [...]}")
    unknown = sorted(set(payload) - {"topic", "messages"})
    if unknown:
        raise ApiError(422, f"input.{unknown[0]}: unknown input field; the input is {{\"topic\": ...}} or "
                            "{\"messages\": [...]}")
    checked: dict[str, Any] = {"messages": payload["messages"]} if payload.get("messages") else {}
    try:
        topic = topic_of_input(payload)
        if payload.get("topic") is not None or not checked:
            checked["topic"] = validate_topic(payload.get("topic")) if checked else topic
    except ResearchInputError as exc:
        raise ApiError(422, f"input.{exc}") from exc
    return checked


def check_command(command: Any) -> dict[str, Any]:
    if not isinstance(command, dict):
        raise ApiError(422, "command: expected an object like {\"resume\": ...}")
    unknown = sorted(set(command) - {"resume", "update", "goto"})
    if unknown:
        raise ApiError(422, f"command.{unknown[0]}: unknown; a command has resume, update or goto")
    return command
