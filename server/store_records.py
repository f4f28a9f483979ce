"""The long-term memory store of the LangGraph server API (`/store/...`), kept in Redis per API key.

Studio's memory view and `client.store.*` read and write JSON items by namespace (a path of labels) and key.
Every key id sees its own store only, as it sees only its own threads: each owner has a separate key space
(`nexa:srv:store:<owner>:...`, "-" with auth off), so no filter can reach another owner's items.

Layout: an item is a JSON string under its own key (so a TTL is a plain Redis expiry); the owner's index is a
sorted set of members `label.label.\\0key`, all scored 0, so a namespace prefix is a lexicographic range
(`a.b.` never matches `a.bc.`: every label ends in a dot). An item that expired leaves its member behind
until a read finds it gone and removes it.

Search takes a namespace prefix, an exact-match filter on the value's fields (with `$eq`, `$ne`, `$gt`,
`$gte`, `$lt`, `$lte`, as LangGraph's stores read them) and returns the newest first. There is no vector
index: a `query` is ignored and scores are null, which is what the official server does when no index is
configured.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from nexa_research.server.records import PREFIX

SEPARATOR = "\0"
COMPARISONS = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


class StoreInputError(ValueError):
    """A namespace, key, value, TTL or filter the store cannot take; the message names the field."""


def check_namespace(namespace: Sequence[Any], field: str, allow_empty: bool = False) -> tuple[str, ...]:
    """The namespace as a tuple of labels: non-empty strings without periods (the SDKs join labels with them)."""
    if not isinstance(namespace, list | tuple):
        raise StoreInputError(f"{field}: a namespace is a list of labels")
    if not namespace and not allow_empty:
        raise StoreInputError(f"{field}: a namespace needs at least one label")
    for label in namespace:
        if not isinstance(label, str) or not label or "." in label or SEPARATOR in label:
            raise StoreInputError(f"{field}: label {label!r} must be a non-empty string without periods")
    return tuple(namespace)


def _prefix_text(namespace: Sequence[str]) -> str:
    return "".join(f"{label}." for label in namespace)


def _member(namespace: Sequence[str], key: str) -> str:
    return f"{_prefix_text(namespace)}{SEPARATOR}{key}"


def _matches(namespace: tuple[str, ...], pattern: tuple[str, ...], at_end: bool) -> bool:
    """Whether `pattern` (labels, "*" for any label) begins (or, `at_end`, ends) `namespace`."""
    if len(pattern) > len(namespace):
        return False
    part = namespace[len(namespace) - len(pattern):] if at_end else namespace[: len(pattern)]
    return all(p in ("*", n) for p, n in zip(pattern, part, strict=True))


def value_matches(value: dict[str, Any], conditions: dict[str, Any]) -> bool:
    """Every condition holds on `value`: a plain value is equality, a dict of `$op` keys is comparisons."""
    for field, wanted in conditions.items():
        if field not in value:
            return False
        actual = value[field]
        if isinstance(wanted, dict) and wanted and all(k.startswith("$") for k in wanted):
            for op, operand in wanted.items():
                if op not in COMPARISONS:
                    raise StoreInputError(f"filter.{field}: unknown operator {op!r}; use {', '.join(COMPARISONS)}")
                try:
                    if not COMPARISONS[op](actual, operand):
                        return False
                except TypeError:
                    return False  # values of kinds that do not compare (a string against a number) do not match
        elif isinstance(wanted, dict) and isinstance(actual, dict):
            if not value_matches(actual, wanted):
                return False
        elif actual != wanted:
            return False
    return True


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


class MemoryStore:
    """One owner's items. `owner`: the API key id (None with auth off)."""

    def __init__(self, redis: Redis, owner: str | None) -> None:
        self.redis = redis
        self.base = f"{PREFIX}:store:{owner or '-'}"
        self.index = f"{self.base}:index"

    def _item_key(self, member: str) -> str:
        return f"{self.base}:item:{hashlib.sha256(member.encode()).hexdigest()}"

    async def put(self, namespace: tuple[str, ...], key: str, value: Any, ttl_minutes: float | None) -> None:
        if not isinstance(value, dict):
            raise StoreInputError("value: an item's value is a JSON object")
        if ttl_minutes is not None and ttl_minutes <= 0:
            raise StoreInputError("ttl: minutes until the item expires, more than 0 (or null: never)")
        member = _member(namespace, key)
        item_key = self._item_key(member)
        now = time.time()
        old = await self.redis.get(item_key)
        created = json.loads(old)["created_at"] if old else now
        record = {"namespace": list(namespace), "key": key, "value": value, "created_at": created,
                  "updated_at": now, "ttl_minutes": ttl_minutes}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(item_key, json.dumps(record), px=int(ttl_minutes * 60_000) if ttl_minutes else None)
            pipe.zadd(self.index, {member: 0})
            await pipe.execute()

    async def get(self, namespace: tuple[str, ...], key: str, refresh_ttl: bool = False) -> dict[str, Any] | None:
        records = await self._records([_member(namespace, key)], refresh_ttl)
        return self._view(records[0]) if records else None

    async def delete(self, namespace: tuple[str, ...], key: str) -> None:
        member = _member(namespace, key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._item_key(member))
            pipe.zrem(self.index, member)
            await pipe.execute()

    async def search(
        self, prefix: tuple[str, ...], conditions: dict[str, Any] | None, limit: int, offset: int,
        refresh_ttl: bool = False,
    ) -> list[dict[str, Any]]:
        """Items under `prefix` whose value meets `conditions`, newest first."""
        records = await self._records(await self._members(prefix), False)
        found = [r for r in records if not conditions or value_matches(r["value"], conditions)]
        found.sort(key=lambda r: r["updated_at"], reverse=True)
        page = found[offset: offset + limit]
        if refresh_ttl:
            await self._refresh(page)
        return [{**self._view(r), "score": None} for r in page]

    async def namespaces(
        self, prefix: tuple[str, ...] | None, suffix: tuple[str, ...] | None, max_depth: int | None,
        limit: int, offset: int,
    ) -> list[list[str]]:
        """Distinct namespaces holding live items, cut to `max_depth` labels, sorted."""
        fixed = tuple(prefix[: prefix.index("*")]) if prefix and "*" in prefix else (prefix or ())
        records = await self._records(await self._members(fixed), False)
        found: set[tuple[str, ...]] = set()
        for record in records:
            namespace = tuple(record["namespace"])
            if prefix and not _matches(namespace, prefix, at_end=False):
                continue
            if suffix and not _matches(namespace, suffix, at_end=True):
                continue
            found.add(namespace[:max_depth] if max_depth else namespace)
        return [list(ns) for ns in sorted(found)[offset: offset + limit]]

    async def _members(self, prefix: tuple[str, ...]) -> list[str]:
        if not prefix:
            raw = await self.redis.zrange(self.index, 0, -1)
        else:
            text = _prefix_text(prefix).encode()
            # Every member under the prefix starts with `text`; the byte 0xff never occurs in UTF-8, so it
            # sorts after anything that can follow.
            raw = await self.redis.zrangebylex(self.index, b"[" + text, b"[" + text + b"\xff")
        return [m.decode() if isinstance(m, bytes) else str(m) for m in raw]

    async def _records(self, members: list[str], refresh_ttl: bool) -> list[dict[str, Any]]:
        """The live records of `members`; members whose item expired are taken off the index."""
        if not members:
            return []
        raws = await self.redis.mget([self._item_key(m) for m in members])
        gone = [m for m, raw in zip(members, raws, strict=True) if raw is None]
        if gone:
            await self.redis.zrem(self.index, *gone)
        records = [json.loads(raw) for raw in raws if raw is not None]
        if refresh_ttl:
            await self._refresh(records)
        return records

    async def _refresh(self, records: list[dict[str, Any]]) -> None:
        """Restart the expiry of items that have a TTL (a read with `refresh_ttl`)."""
        timed = [r for r in records if r.get("ttl_minutes")]
        if not timed:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for record in timed:
                member = _member(record["namespace"], record["key"])
                pipe.pexpire(self._item_key(member), int(record["ttl_minutes"] * 60_000))
            await pipe.execute()

    @staticmethod
    def _view(record: dict[str, Any]) -> dict[str, Any]:
        """An `Item` of the SDKs."""
        return {"namespace": record["namespace"], "key": record["key"], "value": record["value"],
                "created_at": _iso(record["created_at"]), "updated_at": _iso(record["updated_at"])}
