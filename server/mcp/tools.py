"""The MCP tools the server lists: `research` (a topic and research knobs in, the report out) and `research_report`.

The knobs in `research`'s input schema come from `ResearchKnobs` (graph/config.py), so a knob added to
`ResearchConfig` shows up here with its bounds and description, and the server's own validation
(server/knobs.py) judges the values, as it does for the runs API. Two knobs are left out: `review_plan` pauses
a run for an answer an MCP tool call has no way to give, and `models` names endpoints, which the runs API
gates separately (server/access/endpoint_knobs.py) and which a tool-calling model should not be choosing.
"""

from __future__ import annotations

from typing import Any

from mcp import types

from nexa_research.config import ResearchKnobs
from nexa_research.report import Report
from nexa_research.state import MAX_TOPIC_CHARS

RESEARCH = "research"
RESEARCH_REPORT = "research_report"
LEFT_OUT_KNOBS = frozenset({"review_plan", "models"})


class ToolArgumentError(ValueError):
    """A tool argument the server cannot use; the message names the argument."""


def research_input_schema() -> dict[str, Any]:
    knobs = ResearchKnobs.model_json_schema()
    properties: dict[str, Any] = {
        "topic": {"type": "string", "minLength": 1, "maxLength": MAX_TOPIC_CHARS,
                  "description": "What the report is about, e.g. 'The history of the printing press'."},
    }
    for name, schema in knobs["properties"].items():
        if name not in LEFT_OUT_KNOBS:
            properties[name] = {k: v for k, v in schema.items() if k != "default"}
    schema = {"type": "object", "properties": properties, "required": ["topic"], "additionalProperties": False}
    if "$defs" in knobs and any("$ref" in str(p) for p in properties.values()):
        schema["$defs"] = knobs["$defs"]
    return schema


def report_output_schema() -> dict[str, Any]:
    return Report.model_json_schema()


def listed_tools() -> list[types.Tool]:
    research = types.Tool(
        name=RESEARCH,
        title="Deep research report",
        description=(
            "Research a topic and write a cited report: plans sections, searches and reflects per section, writes "
            "each section from the sources it retrieved, and collates a report whose every [n] is in its "
            "bibliography. Takes minutes; progress is reported per section. Returns the report as Markdown, and "
            "as JSON in the structured content."
        ),
        inputSchema=research_input_schema(),
        outputSchema=report_output_schema(),
        annotations=types.ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False,
                                          openWorldHint=True),
    )
    report = types.Tool(
        name=RESEARCH_REPORT,
        title="A finished research report",
        description="The report of a finished research run, by its thread id (in the `research` result's _meta).",
        inputSchema={"type": "object", "properties": {"thread_id": {"type": "string", "minLength": 1,
                                                                    "maxLength": 200}},
                     "required": ["thread_id"], "additionalProperties": False},
        outputSchema=report_output_schema(),
        annotations=types.ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    return [research, report]


def research_arguments(arguments: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The topic and the knobs set (None means unset) of a `research` call; an argument the tool does not take
    is refused by name (the SDK's schema check catches it first; this holds without it too)."""
    unknown = sorted(k for k in arguments if k != "topic" and (k in LEFT_OUT_KNOBS or k not in ResearchKnobs.model_fields))
    if unknown:
        raise ToolArgumentError(f"{unknown[0]}: not an argument of the research tool")
    knobs = {k: v for k, v in arguments.items() if k != "topic" and v is not None}
    return arguments.get("topic"), knobs


def argument_message(message: str) -> str:
    """A validation message of the runs API, with its field named as the tool's argument: the topic is `input.topic`
    and a knob `context.<knob>` there, plain `topic` and `<knob>` here."""
    for prefix in ("input.", "context."):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message
