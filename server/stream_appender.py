"""XADDs from many tasks of one process, written together: one pipeline for all that arrive while one is written.

A worker executing 50 runs appends to their event logs from 50 tasks, a few entries per step each; one XADD per
entry was one round trip each, and redis-py spends about as much CPU on a round trip as on the rest of an entry.
Here the first append of an idle process starts a writer task; appends made before it runs, or while its pipeline
is in flight, wait for the next pipeline. Each append still returns only once its entry is in Redis, with the
entry's id, so a run goes on exactly as it did; entries keep the order they were appended in, so one run's events
keep theirs. An API process serving joins reads a run's entries in fewer, larger XREADs for the same reason.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

Fields = dict[FieldT, EncodableT]
_Entry = tuple[str, Fields, "asyncio.Future[str]"]


class StreamAppender:
    """One per process and Redis client (its writer task belongs to the event loop that started it)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._queued: list[_Entry] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, key: str, fields: Fields) -> str:
        """XADD `fields` to the stream `key` (id chosen by Redis); the entry's id once it is written."""
        loop = asyncio.get_running_loop()
        written: asyncio.Future[str] = loop.create_future()
        self._queued.append((key, fields, written))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_queued())
        return await written

    async def _write_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            pipe = self.redis.pipeline(transaction=False)
            for key, fields, _ in batch:
                pipe.xadd(key, fields)
            try:
                ids = await pipe.execute()
            except asyncio.CancelledError:
                for *_, written in batch + self._queued:
                    written.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - every append of the batch raises it
                for *_, written in batch:
                    if not written.done():
                        written.set_exception(exc)
                continue
            for (*_, written), entry_id in zip(batch, ids, strict=True):
                if not written.done():  # an appender cancelled while waiting no longer wants its id
                    written.set_result(entry_id.decode() if isinstance(entry_id, bytes) else entry_id)
