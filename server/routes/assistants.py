"""Assistants: one per graph. The graph name and its fixed uuid5 both work as `assistant_id`.

The assistant's context schema is the research knobs (`ResearchKnobs`), so a client (Studio, agent-chat-ui,
a script) can discover what a run accepts.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from nexa_research.config import ResearchKnobs
from nexa_research.server.api_errors import NOT_FOUND, not_found
from nexa_research.server.context import ServerContext
from nexa_research.server.routes.deps import server

GRAPH_ID = "nexa_research"
ASSISTANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"nexa-research:assistant:{GRAPH_ID}"))
CREATED_AT = "2026-01-01T00:00:00+00:00"

router = APIRouter(tags=["assistants"])


class AssistantSearch(BaseModel):
    model_config = ConfigDict(extra="allow")
    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    limit: int = 10
    offset: int = 0


def resolve_assistant(assistant_id: str) -> str:
    """The graph id an assistant id names; 404 for anything else."""
    if assistant_id in (GRAPH_ID, ASSISTANT_ID):
        return GRAPH_ID
    raise not_found("assistant", assistant_id)


def assistant_view() -> dict[str, Any]:
    return {
        "assistant_id": ASSISTANT_ID, "graph_id": GRAPH_ID, "name": GRAPH_ID,
        "description": "Deep research: plans sections, researches them in parallel, writes a cited report.",
        "config": {}, "context": {}, "metadata": {"created_by": "system"}, "version": 1,
        "created_at": CREATED_AT, "updated_at": CREATED_AT,
    }


@router.post("/assistants/search", summary="Search assistants (one per graph)")
async def search_assistants(body: AssistantSearch) -> list[dict[str, Any]]:
    matches = (body.graph_id in (None, GRAPH_ID)) and (body.name in (None, GRAPH_ID))
    return [assistant_view()][body.offset: body.offset + body.limit] if matches else []


@router.get("/assistants/{assistant_id}", responses=NOT_FOUND, summary="Get an assistant")
async def get_assistant(assistant_id: str) -> dict[str, Any]:
    resolve_assistant(assistant_id)
    return assistant_view()


@router.get("/assistants/{assistant_id}/schemas", responses=NOT_FOUND, summary="Input, output, state and context schemas")
async def get_schemas(assistant_id: str, ctx: ServerContext = Depends(server)) -> dict[str, Any]:
    resolve_assistant(assistant_id)
    graph = ctx.runtime.graph
    return {
        "graph_id": GRAPH_ID,
        "input_schema": graph.get_input_jsonschema(),
        "output_schema": graph.get_output_jsonschema(),
        "state_schema": graph.get_output_jsonschema(),
        "config_schema": {},
        "context_schema": ResearchKnobs.model_json_schema(),
    }


@router.get("/assistants/{assistant_id}/graph", responses=NOT_FOUND, summary="The graph's nodes and edges")
async def get_graph(assistant_id: str, xray: bool = False, ctx: ServerContext = Depends(server)) -> dict[str, Any]:
    resolve_assistant(assistant_id)
    return ctx.runtime.graph.get_graph(xray=xray).to_json()
