"""Redis commands from many tasks of one process, sent together: one pipeline for all that arrive while one is out.

A worker executes tens of runs at once, and each step of each run writes to Redis: its checkpoint, its pending
writes, its stream events. One pipeline (or command) per write was one round trip each, and redis-py spends
about as much CPU on a round trip's fixed work (a pooled connection, the send, the wake-up) as on the commands in
it; Redis too spends less per command when they come in batches. Here the first caller of an idle batcher starts
a writer task, and the commands queued before it runs, or while its pipeline is in flight, go together in the
next pipeline.

Each caller still gets back only once its own commands have run, with their results, so what a caller makes of
a write (a checkpoint is durable once `aput` returns, an event is in its stream once `append` returns) is as it
was; commands keep the order in which they were queued, so one caller's writes, made one after another, keep
theirs. A command that fails gives its caller the error in its place (the other commands, its caller's
included, still ran, as in any non-transactional pipeline); a lost connection fails every caller of its batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.typing import EncodableT

Command = Sequence[EncodableT]  # a command's words: ("XADD", key, "*", "event", "values", "data", text)
_Queued = tuple[Sequence[Command], "asyncio.Future[list[Any]]"]


class CommandBatcher:
    """One per Redis client and event loop (its writer task belongs to the loop that started it)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._queued: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    async def results(self, commands: Sequence[Command]) -> list[Any]:
        """Run `commands` in the next pipeline; their results in order, an error as its exception in its place."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Any]] = loop.create_future()
        self._queued.append((commands, done))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_queued())
        return await done

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """`results`, raising the first command's error if any failed."""
        results = await self.results(commands)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    async def _write_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            pipe = self.redis.pipeline(transaction=False)
            for commands, _ in batch:
                for words in commands:
                    pipe.execute_command(*words)
            try:
                results = await pipe.execute(raise_on_error=False)
            except asyncio.CancelledError:
                for _, done in batch + self._queued:
                    done.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - every caller of the batch raises it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            start = 0
            for commands, done in batch:
                if not done.done():  # a caller cancelled while waiting no longer wants its results
                    done.set_result(results[start:start + len(commands)])
                start += len(commands)
