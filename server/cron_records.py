"""Cron records of the server, kept in Redis so every API process schedules from the same ones.

A cron is a JSON record under `nexa:srv:cron:<id>` (schedule, timezone, end time, the run payload it creates runs
from, its owner: the API key that made it). Beside it:
- `nexa:srv:crons`, every cron scored by creation time, for search and count;
- `nexa:srv:crons:due`, the crons that will fire, scored by their next due time (epoch seconds). It is the one
  place the next run date lives: a disabled or ended cron is not in it, and its view says `next_run_date: null`;
- `nexa:srv:thread:<id>:crons`, a thread's crons, so deleting the thread deletes them;
- `nexa:srv:crons:delete-after`, threads of stateless crons to delete once their run ends (`on_run_completed`).

Firing is claimed with a compare-and-set on the due score (`claim`): of all the API processes that saw a cron due
at time T, exactly one moves it from T to its next time, and only that one creates the run.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from nexa_research.server.records import PREFIX, now_iso

CRONS = f"{PREFIX}:crons"
DUE = f"{PREFIX}:crons:due"
DELETE_AFTER = f"{PREFIX}:crons:delete-after"

# Move a cron from the due time the caller saw to its next one (or out of the due set), only if it is still at
# that due time: a cron another process claimed, rescheduled or deleted meanwhile is left alone.
_CLAIM = """
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not current or tonumber(current) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
"""


def cron_key(cron_id: str) -> str:
    return f"{PREFIX}:cron:{cron_id}"


def thread_crons_key(thread_id: str) -> str:
    return f"{PREFIX}:thread:{thread_id}:crons"


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


class CronStore:
    """Reads, writes and claims cron records; cheap to make (it holds only the client)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, cron_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(cron_key(cron_id))
        return json.loads(raw) if raw else None

    async def add(self, cron: dict[str, Any], due: int | None) -> None:
        """Record a new cron and, unless `due` is None, schedule it then."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(cron_key(cron["cron_id"]), json.dumps(cron))
            pipe.zadd(CRONS, {cron["cron_id"]: time.time()})
            if due is not None:
                pipe.zadd(DUE, {cron["cron_id"]: due})
            if cron.get("thread_id"):
                pipe.sadd(thread_crons_key(cron["thread_id"]), cron["cron_id"])
            await pipe.execute()

    async def put(self, cron: dict[str, Any], due: int | None, reschedule: bool) -> dict[str, Any]:
        """Write a changed cron; when `reschedule`, its due time becomes `due` (None: it fires no more)."""
        cron = {**cron, "updated_at": now_iso()}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(cron_key(cron["cron_id"]), json.dumps(cron), xx=True)  # never brings back a deleted cron
            if reschedule and due is not None:
                pipe.zadd(DUE, {cron["cron_id"]: due})
            elif reschedule:
                pipe.zrem(DUE, cron["cron_id"])
            written, *_ = await pipe.execute()
        if not written:
            await self.redis.zrem(DUE, cron["cron_id"])  # deleted meanwhile: the due entry this wrote goes too
        return cron

    async def delete(self, cron_id: str) -> bool:
        """Delete the cron; False if there was none. A claim under way for it fails from here on."""
        cron = await self.get(cron_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(cron_key(cron_id))
            pipe.zrem(CRONS, cron_id)
            pipe.zrem(DUE, cron_id)
            if cron is not None and cron.get("thread_id"):
                pipe.srem(thread_crons_key(cron["thread_id"]), cron_id)
            deleted, *_ = await pipe.execute()
        return bool(deleted)

    async def delete_for_thread(self, thread_id: str) -> int:
        """Delete the thread's crons (the thread is being deleted); how many there were."""
        ids = [_text(i) for i in await self.redis.smembers(thread_crons_key(thread_id))]
        deleted = [await self.delete(cron_id) for cron_id in ids]
        await self.redis.delete(thread_crons_key(thread_id))
        return sum(deleted)

    async def all(self) -> list[dict[str, Any]]:
        """Every cron, oldest first (callers filter by owner: a key sees only its own)."""
        ids = [_text(i) for i in await self.redis.zrange(CRONS, 0, -1)]
        if not ids:
            return []
        raws = await self.redis.mget([cron_key(i) for i in ids])
        return [json.loads(raw) for raw in raws if raw]

    async def next_run_dates(self, cron_ids: list[str]) -> dict[str, str | None]:
        """Each cron's next due time (ISO, UTC), None for one that fires no more."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for cron_id in cron_ids:
                pipe.zscore(DUE, cron_id)
            scores = await pipe.execute()
        return {cron_id: _iso(score) for cron_id, score in zip(cron_ids, scores, strict=True)}

    # scheduling -----------------------------------------------------------------------------------------
    async def due(self, now: float, limit: int = 100) -> list[tuple[str, int]]:
        """Crons due at `now` (epoch seconds), earliest first: (cron id, the due time seen)."""
        rows = await self.redis.zrangebyscore(DUE, "-inf", now, start=0, num=limit, withscores=True)
        return [(_text(row[0]), int(row[1])) for row in rows]

    async def claim(self, cron_id: str, seen: int, following: int | None) -> bool:
        """Move the cron from due time `seen` to `following` (None: out of the due set); True for the one
        caller that did it, False when another process claimed it first or it was changed or deleted."""
        claimed = await self.redis.eval(_CLAIM, 1, DUE, cron_id, str(seen), "" if following is None else str(following))
        return bool(claimed)

    # stateless crons' threads ---------------------------------------------------------------------------
    async def delete_after_run(self, thread_id: str) -> None:
        await self.redis.zadd(DELETE_AFTER, {thread_id: time.time()})

    async def threads_to_delete(self, limit: int = 100) -> list[str]:
        return [_text(i) for i in await self.redis.zrange(DELETE_AFTER, 0, limit - 1)]

    async def take_thread_to_delete(self, thread_id: str) -> bool:
        """True for the one process that takes the thread off the list (it deletes the thread)."""
        return bool(await self.redis.zrem(DELETE_AFTER, thread_id))
