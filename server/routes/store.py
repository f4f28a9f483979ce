"""The `/store/...` routes of the LangGraph server API: put, get, delete and search items, list namespaces.

What Studio's memory view and `client.store.*` call. Each API key id has its own store
(server/store_records.py); bad namespaces, values, TTLs or filters are a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.server.api_errors import INVALID, ApiError
from nexa_research.server.routes.deps import Ctx, Owner
from nexa_research.server.store_records import MemoryStore, StoreInputError, check_namespace

router = APIRouter(tags=["store"])


class ItemPut(BaseModel):
    model_config = ConfigDict(extra="allow")
    namespace: list[str]
    key: str = Field(min_length=1, max_length=1000)
    value: dict[str, Any]
    index: Any = Field(default=None, description="Accepted; this server keeps no vector index.")
    ttl: float | None = Field(default=None, description="Minutes until the item expires (null: never).")


class ItemDelete(BaseModel):
    model_config = ConfigDict(extra="allow")
    namespace: list[str]
    key: str = Field(min_length=1, max_length=1000)


class ItemSearch(BaseModel):
    model_config = ConfigDict(extra="allow")
    namespace_prefix: list[str] = Field(default_factory=list)
    filter: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    query: str | None = Field(default=None, description="Ignored: no vector index (scores are null).")
    refresh_ttl: bool | None = None


class NamespaceList(BaseModel):
    model_config = ConfigDict(extra="allow")
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(default=None, ge=1)
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


def _namespace(value: list[str] | str, field: str, allow_empty: bool = False) -> tuple[str, ...]:
    try:
        return check_namespace(value.split(".") if isinstance(value, str) else value, field, allow_empty)
    except StoreInputError as exc:
        raise ApiError(422, str(exc)) from exc


@router.put("/store/items", status_code=204, responses=INVALID, summary="Store or replace an item")
async def put_item(ctx: Ctx, owner: Owner, body: ItemPut) -> Response:
    try:
        await MemoryStore(ctx.redis, owner).put(_namespace(body.namespace, "namespace"), body.key, body.value, body.ttl)
    except StoreInputError as exc:
        raise ApiError(422, str(exc)) from exc
    return Response(status_code=204)


@router.get("/store/items", responses=INVALID, summary="Get an item (null when there is none)")
async def get_item(
    ctx: Ctx, owner: Owner, key: str = Query(min_length=1), namespace: str = Query(default=""),
    refresh_ttl: bool = False,
) -> dict[str, Any] | None:
    return await MemoryStore(ctx.redis, owner).get(_namespace(namespace, "namespace"), key, refresh_ttl)


@router.delete("/store/items", status_code=204, responses=INVALID, summary="Delete an item")
async def delete_item(ctx: Ctx, owner: Owner, body: ItemDelete) -> Response:
    await MemoryStore(ctx.redis, owner).delete(_namespace(body.namespace, "namespace"), body.key)
    return Response(status_code=204)


@router.post("/store/items/search", responses=INVALID, summary="Items under a namespace prefix, newest first")
async def search_items(ctx: Ctx, owner: Owner, body: ItemSearch) -> dict[str, list[dict[str, Any]]]:
    prefix = _namespace(body.namespace_prefix, "namespace_prefix", allow_empty=True)
    try:
        items = await MemoryStore(ctx.redis, owner).search(prefix, body.filter, body.limit, body.offset,
                                                           bool(body.refresh_ttl))
    except StoreInputError as exc:
        raise ApiError(422, str(exc)) from exc
    return {"items": items}


@router.post("/store/namespaces", responses=INVALID, summary="Namespaces holding items (prefix, suffix, depth)")
async def list_namespaces(ctx: Ctx, owner: Owner, body: NamespaceList) -> dict[str, list[list[str]]]:
    prefix = _namespace(body.prefix, "prefix", allow_empty=True) if body.prefix else None
    suffix = _namespace(body.suffix, "suffix", allow_empty=True) if body.suffix else None
    found = await MemoryStore(ctx.redis, owner).namespaces(prefix, suffix, body.max_depth, body.limit, body.offset)
    return {"namespaces": found}
