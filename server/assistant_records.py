"""Stored assistants of the LangGraph server API, kept in Redis per API key, with their versions.

An assistant is a named set of defaults for runs of the graph (Studio's "Manage assistants": another model, more
sections). Runs still choose their own knobs; an assistant only fills in the ones a run leaves unset
(server/assistant_lookup.py). Each key id has its own assistants, as it has its own store
(server/store_records.py): `nexa:srv:assistants:<owner>:...` ("-" with auth off), so another key's assistant is a
404 and never listed. Assistants never expire: retention (nexa_research/retention.py) works on threads only.

Layout: one hash per assistant, `current` (the assistant as clients read it), `v<N>` (each version) and `versions`
(the highest version number), so deleting an assistant is one key; an index per owner (a sorted set by creation
time) lists them. An update writes version N+1 under WATCH, so two concurrent updates never share a number.

Versions follow the official server: creating is version 1; an update is a new version whose config and context
replace the old ones when given, whose metadata is merged into the old, and whose other fields are kept when not
given; `set_latest` makes an existing version the current one. `config.configurable` and `context` carry the same
knobs (the one given is copied into the other), as the official server keeps them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from nexa_research.server.records import PREFIX, now_iso

Fields = dict[Any, Any]  # a hash's fields to write, as redis-py types them
VERSION_FIELDS = ("assistant_id", "graph_id", "config", "context", "metadata", "version", "created_at", "name",
                  "description")


class AssistantConflictError(ValueError):
    """Both `config.configurable` and `context` given: the official server refuses that too."""


@dataclass(frozen=True)
class AssistantChanges:
    """What an update sends; None (or an empty config) keeps the current value."""

    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None


def synced(config: dict[str, Any] | None, context: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(config, context) with `config.configurable` and `context` holding the same knobs: the one given wins."""
    config = dict(config or {})
    configurable = config.get("configurable")
    if configurable and context:
        raise AssistantConflictError("context: give the knobs in context or in config.configurable, not both")
    if configurable:
        return config, dict(configurable)
    if context:
        config["configurable"] = dict(context)
    return config, context


def next_version(current: dict[str, Any], number: int, changes: AssistantChanges, stamp: str) -> dict[str, Any]:
    """Version `number` of an assistant: `changes` applied to `current` the way the official server applies them."""
    config, context = synced(changes.config, changes.context)
    if changes.context is not None and not changes.config:
        config = {**current["config"], "configurable": dict(changes.context)}  # the new context, the rest kept
    elif not config:
        config = current["config"]
    return {
        "assistant_id": current["assistant_id"], "graph_id": current["graph_id"], "version": number,
        "config": config, "context": context if context is not None else current.get("context") or {},
        "metadata": {**current["metadata"], **(changes.metadata or {})},
        "name": changes.name if changes.name is not None else current["name"],
        "description": changes.description if changes.description is not None else current.get("description"),
        "created_at": stamp,
    }


def as_current(version: dict[str, Any], created_at: str, stamp: str) -> dict[str, Any]:
    """The assistant as clients read it when `version` is its latest."""
    return {**version, "created_at": created_at, "updated_at": stamp}


def _loads(raw: Any) -> dict[str, Any]:
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


class AssistantStore:
    """One owner's assistants. `owner`: the API key id (None with auth off)."""

    def __init__(self, redis: Redis, owner: str | None) -> None:
        self.redis = redis
        self.base = f"{PREFIX}:assistants:{owner or '-'}"
        self.index = f"{self.base}:index"

    def key(self, assistant_id: str) -> str:
        return f"{self.base}:{assistant_id}"

    async def create(
        self, assistant_id: str, graph_id: str, config: dict[str, Any], context: dict[str, Any] | None,
        metadata: dict[str, Any], name: str, description: str | None,
    ) -> tuple[dict[str, Any], bool]:
        """The assistant (created as version 1 unless it exists) and whether it was created now."""
        config, context = synced(config, context)
        stamp = now_iso()
        version = {"assistant_id": assistant_id, "graph_id": graph_id, "version": 1, "config": config,
                   "context": context or {}, "metadata": metadata, "name": name, "description": description,
                   "created_at": stamp}
        assistant = as_current(version, stamp, stamp)

        def plan(found: list[Any]) -> tuple[tuple[dict[str, Any], bool], Fields | None]:
            if found[0]:
                return (_loads(found[0]), False), None
            return (assistant, True), {"current": json.dumps(assistant), "v1": json.dumps(version), "versions": 1}

        result: tuple[dict[str, Any], bool] = await self._rewrite(assistant_id, ["current"], plan, listed=True)
        return result

    async def get(self, assistant_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.key(assistant_id), "current")
        return _loads(raw) if raw else None

    async def all(self) -> list[dict[str, Any]]:
        """Every assistant of the owner, oldest first."""
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in await self.redis.zrange(self.index, 0, -1)]
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for assistant_id in ids:
                pipe.hget(self.key(assistant_id), "current")
            raws = await pipe.execute()
        return [_loads(raw) for raw in raws if raw]

    async def update(self, assistant_id: str, changes: AssistantChanges) -> dict[str, Any] | None:
        """Write the next version and make it current; None when there is no such assistant."""

        def plan(found: list[Any]) -> tuple[dict[str, Any] | None, Fields | None]:
            raw, count = found
            if not raw:
                return None, None
            current, stamp = _loads(raw), now_iso()
            number = int(count) + 1
            version = next_version(current, number, changes, stamp)
            assistant = as_current(version, current["created_at"], stamp)
            return assistant, {f"v{number}": json.dumps(version), "versions": number, "current": json.dumps(assistant)}

        updated: dict[str, Any] | None = await self._rewrite(assistant_id, ["current", "versions"], plan)
        return updated

    async def versions(self, assistant_id: str) -> list[dict[str, Any]] | None:
        """Every version, newest first; None when there is no such assistant."""
        fields = await self.redis.hgetall(self.key(assistant_id))
        found = {(k.decode() if isinstance(k, bytes) else k): v for k, v in fields.items()}
        if "current" not in found:
            return None
        versions = [_loads(raw) for name, raw in found.items() if name.startswith("v") and name[1:].isdigit()]
        return sorted(versions, key=lambda v: v["version"], reverse=True)

    async def set_latest(self, assistant_id: str, number: int) -> dict[str, Any] | None:
        """Make version `number` current (a new `updated_at`); None when the assistant or version does not exist."""

        def plan(found: list[Any]) -> tuple[dict[str, Any] | None, Fields | None]:
            raw, chosen = found
            if not raw or not chosen:
                return None, None
            assistant = as_current(_loads(chosen), _loads(raw)["created_at"], now_iso())
            return assistant, {"current": json.dumps(assistant)}

        latest: dict[str, Any] | None = await self._rewrite(assistant_id, ["current", f"v{number}"], plan)
        return latest

    async def _rewrite(
        self, assistant_id: str, fields: list[str],
        plan: Callable[[list[Any]], tuple[Any, Fields | None]], listed: bool = False,
    ) -> Any:
        """Read `fields` of the assistant's hash and write what `plan` makes of them, atomically: under WATCH, so a
        concurrent update or delete makes this read again rather than write over it (or bring a deleted one
        back). `plan` returns (the result, the fields to write or None); `listed` adds the assistant to the index."""
        key = self.key(assistant_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    result, mapping = plan(await pipe.hmget(key, fields))
                    if mapping is None:
                        return result
                    pipe.multi()
                    pipe.hset(key, mapping=mapping)
                    if listed:
                        pipe.zadd(self.index, {assistant_id: time.time()})
                    await pipe.execute()
                    return result
                except WatchError:
                    continue

    async def delete(self, assistant_id: str) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key(assistant_id))
            pipe.zrem(self.index, assistant_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)
