"""A run's stream events, kept in a Redis stream so any API process can serve them, from any point.

The worker executing a run appends every event (`metadata`, `values`, `updates`, `custom`, `events`, `error`)
with XADD, in one pipeline with the other runs' appends of the moment (providers/redis_batcher.py); an API
process serving `/runs/stream` or `/runs/{id}/stream` reads them with a blocking XREAD and turns each entry
into one SSE event whose `id:` is the entry's id. A client that loses its connection
reconnects with `Last-Event-ID` (langgraph_sdk does this by itself) to any API process, and the read resumes
right after that entry: nothing is lost, nothing repeats. The worker ends the log with an end marker, after
which readers stop; the log expires `retention` seconds later.

The end marker has a copy in a stream of its own (`ended_key`), for readers that only wait for the end (a join):
following the log woke them at every step of the run and handed them every event's data to skip.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import orjson
from redis.asyncio import Redis

from nexa_research.providers.redis_batcher import CommandBatcher
from nexa_research.server.records import PREFIX

END_EVENT = "__end__"


def log_key(run_id: str) -> str:
    return f"{PREFIX}:run:{run_id}:events"


def ended_key(run_id: str) -> str:
    return f"{PREFIX}:run:{run_id}:ended"


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
        self.batcher = CommandBatcher(redis, transaction=True)  # a follower is woken once per batch

    async def append(self, run_id: str, event: str, data: Any) -> str:
        """Append one event (`data`: JSON text, or a value to encode); its entry id once it is in Redis."""
        [entry] = await self.append_soon(run_id, event, data)
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    def append_soon(self, run_id: str, event: str, data: Any) -> asyncio.Future[list[Any]]:
        """`append` without waiting for the write: the entry goes behind every entry this process queued before it,
        so one run's events keep their order; the future fails if the write does."""
        text = data if isinstance(data, str) else _json(data)
        return self.batcher.queue([("XADD", log_key(run_id), "*", "event", event, "data", text)], raise_errors=True)

    async def end(self, run_id: str) -> None:
        """The end marker, behind every entry queued before it, and its copy for `wait_ended`; both then expire after
        `retention` (or sooner, if retention already shortened the log: EXPIRE LT)."""
        key, ended = log_key(run_id), ended_key(run_id)
        await self.batcher.execute([("XADD", key, "*", "event", END_EVENT, "data", "null"),
                                    ("EXPIRE", key, self.retention, "LT"),
                                    ("XADD", ended, "*", "event", END_EVENT), ("EXPIRE", ended, self.retention, "LT")])

    async def wait_ended(self, run_id: str, block_ms: int) -> bool:
        """Whether the run's log has ended, waiting up to `block_ms` for its end: one read, woken once."""
        found: Any = await self.redis.xread({ended_key(run_id): "0"}, block=block_ms, count=1)
        return bool(found)

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


class RunEvents:
    """A run's events as its worker appends them: queued without waiting for each write, flushed before the run's
    end is recorded.

    The stream yields the values, updates and custom chunks of a step one after another; awaiting each write made
    every chunk a batch of its own, and every join and stream following the run was woken once per chunk. Queued
    without waiting, a step's chunks go to Redis in one MULTI/EXEC and wake each follower once. A failed write
    fails the run at its next event, or at `flush`, as a failed append did.
    """

    def __init__(self, log: EventLog, run_id: str) -> None:
        self.log, self.run_id = log, run_id
        self._pending: list[asyncio.Future[list[Any]]] = []

    async def publish(self, event: str, data: Any) -> None:
        """Queue one event (an awaitable only to fit `Publish`: it never waits)."""
        self._raise_failed()
        self._pending.append(self.log.append_soon(self.run_id, event, data))

    async def flush(self) -> None:
        """Wait until every event queued so far is in Redis; raise the first write that failed."""
        pending, self._pending = self._pending, []
        for outcome in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    def _raise_failed(self) -> None:
        failed = next((w for w in self._pending if w.done() and not w.cancelled() and w.exception()), None)
        self._pending = [w for w in self._pending if not w.done()]
        if failed is not None:
            raise cast(BaseException, failed.exception())


def logged_event(entry_id: bytes | str, fields: dict[Any, Any]) -> LoggedEvent:
    """One log entry as read with XREAD/XRANGE (bytes or text, as the client decodes)."""
    return LoggedEvent(entry_id.decode() if isinstance(entry_id, bytes) else entry_id, _field(fields, "event"),
                       _field(fields, "data"))


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


def stream_position(entry_id: str) -> tuple[int, int]:
    """A Redis stream entry id ("1733500000000-3") as a tuple that sorts as the stream does; ValueError for text that
    is not an entry id. The job queue's delivery check and the thread stream's merge of logs both order by it."""
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)
