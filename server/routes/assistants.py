"""Assistants: one per graph. The graph name and its fixed uuid5 both work as `assistant_id`.

The assistant's context schema is the research knobs (`ResearchKnobs`), so a client (Studio, agent-chat-ui,
a script) can discover what a run accepts. Studio also draws the graph (`/graph`, with `xray` for the
section subgraph), reads the schemas of the graph and of its subgraphs, and lists the assistant's versions.

The one assistant is fixed: settings differ per run (`context`), not per assistant. Creating another one,
editing or deleting it is refused with a status that says so (501 for what this server does not do, 409 for
deleting the built-in one); asking to create the existing one with `if_exists="do_nothing"` returns it.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from langgraph.pregel.protocol import PregelProtocol
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.errors import PydanticSchemaGenerationError

from nexa_research.config import ResearchKnobs
from nexa_research.server.api_errors import CONFLICT, INVALID, NOT_FOUND, ApiError, not_found
from nexa_research.server.routes.deps import Ctx

GRAPH_ID = "nexa_research"
ASSISTANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"nexa-research:assistant:{GRAPH_ID}"))
CREATED_AT = "2026-01-01T00:00:00+00:00"
ASSISTANT_FIELDS = ("assistant_id", "graph_id", "name", "description", "config", "context", "created_at",
                    "updated_at", "metadata", "version")
ONE_ASSISTANT = (f"this server serves one assistant per graph ({GRAPH_ID!r}); choose research knobs per run "
                 "in `context` instead of a stored assistant")

router = APIRouter(tags=["assistants"])


class AssistantSearch(BaseModel):
    model_config = ConfigDict(extra="allow")
    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class AssistantCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    graph_id: str
    assistant_id: str | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"


class VersionSearch(BaseModel):
    model_config = ConfigDict(extra="allow")
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class LatestVersion(BaseModel):
    version: int


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


def _matches(body: AssistantSearch | VersionSearch) -> bool:
    view = assistant_view()
    if any(view["metadata"].get(k) != v for k, v in (body.metadata or {}).items()):
        return False
    if isinstance(body, AssistantSearch):
        if body.graph_id not in (None, GRAPH_ID):
            return False
        return body.name is None or body.name.lower() in view["name"].lower()  # a substring, as the SDK documents
    return True


def _checked_select(select: list[str] | None) -> list[str] | None:
    unknown = [f for f in select or [] if f not in ASSISTANT_FIELDS]
    if unknown:
        raise ApiError(422, f"select: unknown field {unknown[0]!r}; fields are {', '.join(ASSISTANT_FIELDS)}")
    return select or None


def _state_schema(graph: PregelProtocol) -> dict[str, Any] | None:
    """The JSON schema of the graph's whole state (all channels, not only its output)."""
    state_type = getattr(getattr(graph, "builder", None), "state_schema", None)
    if state_type is None:
        return None
    try:
        return TypeAdapter(state_type).json_schema()
    except PydanticSchemaGenerationError:
        return graph.get_output_jsonschema()


def graph_schemas(graph: PregelProtocol, knobs: dict[str, Any] | None) -> dict[str, Any]:
    """Input, output, state, config and context schemas, as Studio draws its forms from them."""
    return {
        "input_schema": graph.get_input_jsonschema(),
        "output_schema": graph.get_output_jsonschema(),
        "state_schema": _state_schema(graph),
        "config_schema": knobs or {},  # the knobs are accepted in config.configurable too
        "context_schema": knobs,
    }


def _xray(value: str | None) -> bool | int:
    if value in (None, "", "false", "False"):
        return False
    if value in ("true", "True"):
        return True
    if value is not None and value.isdigit() and int(value) > 0:
        return int(value)
    raise ApiError(422, f"xray: {value!r} is neither true, false nor a positive depth")


@router.post("/assistants/search", responses=INVALID, summary="Search assistants (one per graph)")
async def search_assistants(body: AssistantSearch) -> list[dict[str, Any]]:
    select = _checked_select(body.select)
    found = [assistant_view()][body.offset: body.offset + body.limit] if _matches(body) else []
    return [{k: a[k] for k in select} for a in found] if select else found


@router.post("/assistants/count", summary="Count assistants")
async def count_assistants(body: AssistantSearch) -> int:
    return 1 if _matches(body) else 0


@router.post("/assistants", responses={**NOT_FOUND, **CONFLICT}, summary="Create an assistant (the built-in one only)")
async def create_assistant(body: AssistantCreate) -> dict[str, Any]:
    if body.graph_id != GRAPH_ID:
        raise ApiError(404, f"graph_id: graph {body.graph_id!r} not found; this server serves {GRAPH_ID!r}")
    if body.assistant_id in (None, ASSISTANT_ID, GRAPH_ID) and body.if_exists == "do_nothing":
        return assistant_view()
    if body.assistant_id in (ASSISTANT_ID, GRAPH_ID):
        raise ApiError(409, f"assistant {body.assistant_id!r} already exists")
    raise ApiError(501, f"creating assistants is not supported: {ONE_ASSISTANT}")


@router.get("/assistants/{assistant_id}", responses=NOT_FOUND, summary="Get an assistant")
async def get_assistant(assistant_id: str) -> dict[str, Any]:
    resolve_assistant(assistant_id)
    return assistant_view()


@router.patch("/assistants/{assistant_id}", responses=NOT_FOUND, summary="Update an assistant (not supported)")
async def patch_assistant(assistant_id: str) -> dict[str, Any]:
    resolve_assistant(assistant_id)
    raise ApiError(501, f"updating the assistant is not supported: {ONE_ASSISTANT}")


@router.delete("/assistants/{assistant_id}", responses={**NOT_FOUND, **CONFLICT}, summary="Delete an assistant (refused)")
async def delete_assistant(assistant_id: str) -> None:
    resolve_assistant(assistant_id)
    raise ApiError(409, f"assistant {assistant_id!r} is the graph's built-in assistant and cannot be deleted")


@router.post("/assistants/{assistant_id}/versions", responses=NOT_FOUND, summary="The assistant's versions (one)")
async def assistant_versions(assistant_id: str, body: VersionSearch) -> list[dict[str, Any]]:
    resolve_assistant(assistant_id)
    view = assistant_view()
    version = {k: view[k] for k in ("assistant_id", "graph_id", "name", "description", "config", "context",
                                    "metadata", "version", "created_at")}
    return [version][body.offset: body.offset + body.limit] if _matches(body) else []


@router.post("/assistants/{assistant_id}/latest", responses=NOT_FOUND, summary="Make a version the latest")
async def set_latest_version(assistant_id: str, body: LatestVersion) -> dict[str, Any]:
    resolve_assistant(assistant_id)
    if body.version != 1:
        raise ApiError(404, f"version: assistant {assistant_id!r} has version 1 only, not {body.version}")
    return assistant_view()


@router.get("/assistants/{assistant_id}/schemas", responses=NOT_FOUND, summary="Input, output, state and context schemas")
async def get_schemas(assistant_id: str, ctx: Ctx) -> dict[str, Any]:
    resolve_assistant(assistant_id)
    return {"graph_id": GRAPH_ID, **graph_schemas(ctx.runtime.graph, ResearchKnobs.model_json_schema())}


@router.get("/assistants/{assistant_id}/graph", responses={**NOT_FOUND, **INVALID}, summary="The graph's nodes and edges")
async def get_graph(assistant_id: str, ctx: Ctx, xray: str | None = None) -> JSONResponse:
    resolve_assistant(assistant_id)
    drawn = ctx.runtime.graph.get_graph(xray=_xray(xray)).to_json()
    for node in drawn.get("nodes", []):
        data = node.get("data")
        if isinstance(data, dict):
            data.pop("id", None)  # the node's import path: of no use to a client
    return JSONResponse(drawn)


@router.get("/assistants/{assistant_id}/subgraphs", responses=NOT_FOUND, summary="Schemas of the graph's subgraphs")
async def get_subgraphs(assistant_id: str, ctx: Ctx, recurse: bool = Query(default=False)) -> dict[str, Any]:
    return await _subgraphs(assistant_id, ctx, None, recurse)


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}", responses=NOT_FOUND,
            summary="Schemas of the subgraphs under a namespace")
async def get_subgraphs_under(
    assistant_id: str, namespace: str, ctx: Ctx, recurse: bool = Query(default=False)
) -> dict[str, Any]:
    return await _subgraphs(assistant_id, ctx, namespace, recurse)


async def _subgraphs(assistant_id: str, ctx: Ctx, namespace: str | None, recurse: bool) -> dict[str, Any]:
    resolve_assistant(assistant_id)
    found: dict[str, Any] = {}
    async for name, subgraph in ctx.runtime.graph.aget_subgraphs(namespace=namespace, recurse=recurse):
        found[name] = graph_schemas(subgraph, None)
    return found
