"""Retention: a finished thread's keys expire `NEXA_RETENTION_DAYS` after it finished; an unfinished thread's never do.

Why: every run leaves a few hundred KiB in Redis (checkpoints and their writes, the server's run records). Without
an expiry, a server doing a thousand runs a day grows by about half a gigabyte a day until Redis runs out of
memory, and then every run fails (issue 19).

Finished means nothing is left to do on the thread: its graph reached its end (no next step, no interrupt
waiting), or it holds no checkpoint at all, and no run of it is pending or running. Everything else is unfinished
and kept with no expiry: a thread waiting for plan review, a run that failed or was cancelled (it continues from its
checkpoints: `nexa resume`, the same `thread_id`, or a new run on the thread), a run whose worker died. A user
comes back to those; they go only when someone deletes them.

When a thread is settled (at the end of a library or CLI run; on the server, by the API's sweeper within seconds
of a run's end: server/retention_sweeper.py) its keys get the retention time as their expiry if it is finished,
and lose any expiry if it is not. Every root checkpoint written (providers/checkpointer.py) first removes the
thread's expiry if it has one and notes the thread for settling, so a finished thread that runs again is kept
while it runs, whichever entry point runs it. Copies that live a short while anyway (a run's event log and result,
kept an hour for reconnects) are only ever given a shorter life, never a longer one.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.types import StateSnapshot
from redis.asyncio import Redis
from redis.commands.search import reducers
from redis.commands.search.aggregation import AggregateRequest

from nexa_research.providers.checkpointer import MAX_THREAD_DOCS, ReportingAsyncRedisSaver
from nexa_research.providers.redis_batcher import Command, CommandBatcher

SETTLE = "nexa:retention:settle"  # thread id -> when its latest root checkpoint was written: threads to settle
Settled = Literal["expiring", "kept", "gone"]
StateOf = Callable[[str], Awaitable[StateSnapshot | None]]

# Forget a noted thread only if it was not noted again while it was being settled (a new run started on it).
_FORGET_IF_UNCHANGED = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
"""

# EXPIRE on every key given, with the options given (ARGV[2], "LT", when present).
_EXPIRE_ALL = """
for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, unpack(ARGV)) end
return #KEYS
"""


@dataclass(frozen=True)
class ThreadKeys:
    """A thread's keys: `state` is the thread (checkpoints, writes, server records); `buffers` are short-lived
    copies (a run's event log and result, a metrics mark) whose expiry retention only ever shortens."""

    state: list[str]
    buffers: list[str]

    @property
    def all(self) -> list[str]:
        return [*self.state, *self.buffers]


def thread_finished(snapshot: StateSnapshot | None) -> bool:
    """Nothing left to do: the graph reached its end, or nothing was ever checkpointed (nothing to resume)."""
    return snapshot is None or (not snapshot.next and not snapshot.interrupts)


def expiry_seconds(retention_seconds: float) -> int:
    """Redis expiries are whole seconds; a retention under one second still expires (after one)."""
    return max(1, math.ceil(retention_seconds))


class ThreadRetention:
    """Settles, keeps and prunes threads on one Redis; made by the `ResearchRuntime` whose saver it listens to.

    `retention_seconds`: how long a finished thread is kept (0: forever). `state_of(thread_id)`: the thread's
    current state (the runtime's graph reads it).
    """

    def __init__(
        self, redis: Redis, saver: ReportingAsyncRedisSaver, retention_seconds: float, state_of: StateOf
    ) -> None:
        self.redis, self.saver = redis, saver
        # The saver's shared pipeline (providers/redis_batcher.py), on the client retention shares with it.
        self.batcher: CommandBatcher = getattr(saver, "batcher", None) or CommandBatcher(redis)
        self.retention_seconds = retention_seconds
        self.state_of = state_of

    async def keys(self, thread_id: str) -> ThreadKeys:
        """The thread's keys: the checkpointer's, and the server's records of it when a server ran it."""
        from nexa_research.server.thread_keys import server_thread_keys  # names only: no server is started

        checkpoints = await self.saver.athread_keys(thread_id)
        state, buffers = await server_thread_keys(self.redis, thread_id)
        return ThreadKeys([*checkpoints, *state], buffers)

    async def touch(self, thread_id: str, parent_key: str | None) -> None:
        """A root checkpoint is about to be written: note the thread for settling, and keep it if it was expiring
        (a finished thread running again). No round trip of its own: the note and the look at the expiry go in
        the pipeline the checkpoint writes of every run in flight share; the keep only when the thread had one."""
        commands: list[Command] = [("ZADD", SETTLE, time.time(), thread_id)]
        if parent_key is not None:
            commands.append(("TTL", parent_key))
        results = await self.batcher.execute(commands)
        if parent_key is not None and results[1] >= 0:  # -1: no expiry, -2: no such key
            await self.keep(thread_id)

    async def keep(self, thread_id: str) -> int:
        """Remove the expiry of the thread's state (a run is about to start on it); the number of keys it had."""
        return await _persist(self.redis, (await self.keys(thread_id)).state)

    async def settle(self, thread_id: str) -> Settled:
        """Expire a finished thread's keys after the retention time; keep an unfinished one's (no expiry)."""
        snapshot = await self.state_of(thread_id)
        keys = await self.keys(thread_id)
        if not keys.state and not keys.buffers:
            return "gone"
        if thread_finished(snapshot) and self.retention_seconds > 0:
            await _expire(self.redis, keys, expiry_seconds(self.retention_seconds))
            return "expiring"
        await _persist(self.redis, keys.state)
        return "kept"

    async def settle_noted(self, busy: Callable[[str], Awaitable[bool]] | None = None) -> Counter[str]:
        """Settle every noted thread (oldest first); one `busy` says has a run pending or running stays noted, for
        its run's end settles it. Counts of what each thread became."""
        counts: Counter[str] = Counter()
        noted: Any = await self.redis.zrange(SETTLE, 0, -1, withscores=True)
        for raw, score in noted:
            thread_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            if busy is not None and await busy(thread_id):
                counts["busy"] += 1
                continue
            counts[await self.settle(thread_id)] += 1
            await self.forget_noted(thread_id, score)
        return counts

    async def forget_noted(self, thread_id: str, score: float) -> None:
        await self.redis.eval(_FORGET_IF_UNCHANGED, 1, SETTLE, thread_id, repr(float(score)))

    async def settle_after_run(self, thread_id: str) -> Settled:
        """Settle the thread a run in this process just ran, and take it off the noted threads."""
        noted = await self.redis.zscore(SETTLE, thread_id)
        outcome = await self.settle(thread_id)
        if noted is not None:
            await self.forget_noted(thread_id, noted)
        return outcome

    async def checkpointed_threads(self) -> dict[str, float]:
        """Every thread with a root checkpoint, with the time (epoch seconds) of its latest one."""
        request = AggregateRequest("@checkpoint_ns:{__empty__}").group_by(
            "@thread_id", reducers.max("@checkpoint_ts").alias("last")
        ).limit(0, MAX_THREAD_DOCS)
        found: dict[str, float] = {}
        result: Any = await self.redis.ft(self.saver.checkpoints_index.name).aggregate(request)  # type: ignore[arg-type]
        for row in result.rows:
            fields = {_text(name): _text(value) for name, value in zip(row[::2], row[1::2], strict=True)}
            thread_id, last = fields["thread_id"], float(fields["last"])
            found[thread_id] = last / 1000  # checkpoint_ts is in milliseconds
        return found

    async def delete(self, thread_id: str, keys: ThreadKeys) -> int:
        """Delete a thread's keys and its entries in the indexes that list it; the number of keys deleted."""
        from nexa_research.server.thread_keys import forget_server_thread

        deleted = 0
        for batch in _batches(keys.all, 500):
            deleted += int(await self.redis.delete(*batch))
        await forget_server_thread(self.redis, thread_id)
        await self.redis.zrem(SETTLE, thread_id)
        return deleted


async def _expire(redis: Redis, keys: ThreadKeys, seconds: int) -> None:
    """One command per 500 keys: a thread has a hundred or more (every checkpoint and its writes), and an EXPIRE
    each cost the API and Redis more than the rest of settling it."""
    for batch in _batches(keys.state, 500):
        await redis.eval(_EXPIRE_ALL, len(batch), *batch, seconds)
    for batch in _batches(keys.buffers, 500):  # "less than": sets an expiry on a key without one, shortens others
        await redis.eval(_EXPIRE_ALL, len(batch), *batch, seconds, "LT")


async def _persist(redis: Redis, keys: list[str]) -> int:
    had = 0
    for batch in _batches(keys, 500):
        async with redis.pipeline(transaction=False) as pipe:
            for key in batch:
                pipe.persist(key)
            had += sum(bool(done) for done in await pipe.execute())
    return had


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
