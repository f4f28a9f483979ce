"""A run's stream events, kept in a Redis stream so any API process can serve them, from any point.

The worker executing a run appends every event (`metadata`, `values`, `updates`, `custom`, `events`, `error`)
with XADD, in one pipeline with the other runs' appends of the moment (providers/redis_batcher.py); an API
process serving `/runs/stream` or `/runs/{id}/stream` reads them with a blocking XREAD and turns each entry
into one SSE event whose `id:` is the entry's id. A client that loses its connection
reconnects with `Last-Event-ID` (langgraph_sdk does this by itself) to any API process, and the read resumes
right after that entry: nothing is lost, nothing repeats. The worker ends the log with an end marker, after
which readers stop; the log expires `retention` seconds later.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from nexa_research.providers.redis_batcher import CommandBatcher
from nexa_research.server.records import PREFIX

END_EVENT = "__end__"


def log_key(run_id: str) -> str:
    return f"{PREFIX}:run:{run_id}:events"


@dataclass(frozen=True)
class LoggedEvent:
    id: str
    event: str
    data: str  # JSON text

    def sse(self) -> str:
        return f"event: {self.event}\ndata: {self.data}\nid: {self.id}\n\n"


class EventLog:
    def __init__(self, redis: Redis, retention_seconds: int = 3600) -> None:
        self.redis = redis
        self.retention = retention_seconds
        self.batcher = CommandBatcher(redis)

    async def append(self, run_id: str, event: str, data: Any) -> str:
        """Append one event (`data`: JSON text, or a value to encode); its entry id once it is in Redis."""
        text = data if isinstance(data, str) else _json(data)
        [entry] = await self.batcher.execute([("XADD", log_key(run_id), "*", "event", event, "data", text)])
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def end(self, run_id: str) -> None:
        key = log_key(run_id)
        await self.redis.xadd(key, {"event": END_EVENT, "data": "null"})
        await self.redis.expire(key, self.retention, lt=True)  # retention may have shortened it already

    async def ended(self, run_id: str) -> bool:
        last: Any = await self.redis.xrevrange(log_key(run_id), count=1)
        return bool(last) and _field(last[0][1], "event") == END_EVENT

    async def exists(self, run_id: str) -> bool:
        return bool(await self.redis.exists(log_key(run_id)))

    async def clear(self, run_id: str) -> None:
        await self.redis.delete(log_key(run_id))

    async def follow(
        self, run_id: str, after: str = "0", block_ms: int = 5000
    ) -> AsyncIterator[LoggedEvent | None]:
        """Entries after `after` until the end marker; None after each `block_ms` without an entry (a heartbeat)."""
        key, cursor = log_key(run_id), after or "0"
        while True:
            batch: Any = await self.redis.xread({key: cursor}, block=block_ms, count=100)
            if not batch:
                yield None
                continue
            for entry_id, fields in batch[0][1]:
                cursor = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                event = _field(fields, "event")
                if event == END_EVENT:
                    return
                yield LoggedEvent(cursor, event, _field(fields, "data"))


def _json(data: Any) -> bytes | str:
    """orjson where it can (several times faster on a run's state), json where it cannot (integers past 64 bits)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data)


def _field(fields: dict[Any, Any], name: str) -> str:
    value = fields.get(name.encode(), fields.get(name))
    if isinstance(value, bytes):
        return value.decode()
    return value if isinstance(value, str) else ""
