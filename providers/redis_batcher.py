"""Redis commands from many tasks of one process, sent together: one pipeline for all that arrive while one is out.

A worker executes tens of runs at once, and each step of each run writes to Redis: its checkpoint, its pending
writes, its stream events. One pipeline (or command) per write was one round trip each, and redis-py spends
about as much CPU on a round trip's fixed work (a pooled connection, the send, the wake-up) as on the commands in
it; Redis too spends less per command when they come in batches. Here the first caller of an idle batcher starts
a writer task, and the commands queued before it runs, or while its pipeline is in flight, go together in the
next pipeline.

With `transaction=True` a batch runs as one MULTI/EXEC: Redis answers the clients blocked on its keys (an XREAD
following a stream) once, after the EXEC, with every entry the batch added, instead of once per command.

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
_Queued = tuple[Sequence[Command], "asyncio.Future[list[Any]]", bool]


class CommandBatcher:
    """One per Redis client and event loop (its writer task belongs to the loop that started it)."""

    def __init__(self, redis: Redis, transaction: bool = False) -> None:
        self.redis = redis
        self.transaction = transaction
        self._queued: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    def queue(self, commands: Sequence[Command], raise_errors: bool = False) -> asyncio.Future[list[Any]]:
        """Queue `commands` behind those queued before them, without waiting: the future of their results (with
        `raise_errors`, of the first command's error if one failed)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Any]] = loop.create_future()
        self._queued.append((commands, done, raise_errors))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_queued())
        return done

    async def results(self, commands: Sequence[Command]) -> list[Any]:
        """Run `commands` in the next pipeline; their results in order, an error as its exception in its place."""
        return await self.queue(commands)

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """`results`, raising the first command's error if any failed."""
        return await self.queue(commands, raise_errors=True)

    async def _write_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            pipe = self.redis.pipeline(transaction=self.transaction)
            for commands, *_ in batch:
                for words in commands:
                    pipe.execute_command(*words)
            try:
                results = await pipe.execute(raise_on_error=False)
            except asyncio.CancelledError:
                for _, done, _ in batch + self._queued:
                    done.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - every caller of the batch raises it
                for _, done, _ in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            start = 0
            for commands, done, raise_errors in batch:
                mine = results[start:start + len(commands)]
                start += len(commands)
                if done.done():  # a caller cancelled while waiting no longer wants its results
                    continue
                failed = next((r for r in mine if isinstance(r, Exception)), None) if raise_errors else None
                if failed is not None:
                    done.set_exception(failed)
                else:
                    done.set_result(mine)
