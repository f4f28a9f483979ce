"""What Studio draws for an assistant: its graph (`/graph`, with `xray` for the section subgraph), the schemas of
the graph (`/schemas`: input, output, state, and the research knobs as config and context) and of its subgraphs.

Every assistant runs the one research graph, so a stored assistant answers what the built-in one does; an id
the caller has no assistant under is a 404 (server/assistant_lookup.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from langgraph.pregel.protocol import PregelProtocol
from pydantic import TypeAdapter
from pydantic.errors import PydanticSchemaGenerationError

from nexa_research.config import ResearchKnobs
from nexa_research.server.api_errors import INVALID, NOT_FOUND, ApiError
from nexa_research.server.assistant_lookup import GRAPH_ID, find_assistant
from nexa_research.server.routes.deps import Ctx, Owner

router = APIRouter(tags=["assistants"])


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


@router.get("/assistants/{assistant_id}/schemas", responses=NOT_FOUND, summary="Input, output, state and context schemas")
async def get_schemas(assistant_id: str, ctx: Ctx, owner: Owner) -> dict[str, Any]:
    await find_assistant(ctx.redis, owner, assistant_id)
    return {"graph_id": GRAPH_ID, **graph_schemas(ctx.runtime.graph, ResearchKnobs.model_json_schema())}


@router.get("/assistants/{assistant_id}/graph", responses={**NOT_FOUND, **INVALID}, summary="The graph's nodes and edges")
async def get_graph(assistant_id: str, ctx: Ctx, owner: Owner, xray: str | None = None) -> JSONResponse:
    await find_assistant(ctx.redis, owner, assistant_id)
    drawn = ctx.runtime.graph.get_graph(xray=_xray(xray)).to_json()
    for node in drawn.get("nodes", []):
        data = node.get("data")
        if isinstance(data, dict):
            data.pop("id", None)  # the node's import path: of no use to a client
    return JSONResponse(drawn)


@router.get("/assistants/{assistant_id}/subgraphs", responses=NOT_FOUND, summary="Schemas of the graph's subgraphs")
async def get_subgraphs(assistant_id: str, ctx: Ctx, owner: Owner, recurse: bool = Query(default=False)) -> dict[str, Any]:
    return await _subgraphs(assistant_id, ctx, owner, None, recurse)


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}", responses=NOT_FOUND,
            summary="Schemas of the subgraphs under a namespace")
async def get_subgraphs_under(
    assistant_id: str, namespace: str, ctx: Ctx, owner: Owner, recurse: bool = Query(default=False)
) -> dict[str, Any]:
    return await _subgraphs(assistant_id, ctx, owner, namespace, recurse)


async def _subgraphs(assistant_id: str, ctx: Ctx, owner: str | None, namespace: str | None, recurse: bool) -> dict[str, Any]:
    await find_assistant(ctx.redis, owner, assistant_id)
    found: dict[str, Any] = {}
    async for name, subgraph in ctx.runtime.graph.aget_subgraphs(namespace=namespace, recurse=recurse):
        found[name] = graph_schemas(subgraph, None)
    return found
