"""The daily run quota and the concurrent-run cap of a key, checked and taken in one atomic step in Redis.

A Lua script reads the key's runs today and its runs in progress, and only if both are under their limits
counts the new run and marks it in progress; Redis runs a script alone, so a burst of concurrent creations can
never admit more than the limit (a read-then-write from Python could). The run is admitted as the last check
before it is recorded, so a request refused for any other reason (a bad knob, a busy thread) costs no quota;
if recording still fails, `refund` gives the unit back. A run leaves the in-progress set when its record reaches
a final status (server/records.py). The day is the UTC day; its counter expires two days
later, so the count survives API restarts and needs no cleanup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from nexa_research.server.records import PREFIX, running_runs_key

_ADMIT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return {0, used, 'quota'} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
local running = redis.call('ZCARD', KEYS[2])
if running >= tonumber(ARGV[2]) then return {0, used, 'concurrency'} end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if ARGV[7] == '1' then redis.call('ZADD', KEYS[2], ARGV[6], ARGV[4]) end
return {1, used, 'ok'}
"""

# A run still marked in progress after this long is assumed lost (its finish was never recorded).
STALE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Admission:
    admitted: bool
    used: int
    limit: int
    reason: str  # "ok", "quota" or "concurrency"
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def retry_after(self) -> int:
        return max(1, int((self.resets_at - datetime.now(UTC)).total_seconds()))


def _day_key(key_id: str, day: datetime) -> str:
    return f"{PREFIX}:quota:{key_id}:{day:%Y%m%d}"


class Quotas:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._admit = redis.register_script(_ADMIT)

    async def admit(
        self, key_id: str, run_id: str, daily_limit: int, concurrent_limit: int, track_running: bool = True
    ) -> Admission:
        """Count the run if the key is under both limits. `track_running=False` (LangServe calls, whose end the
        server does not see) counts it against the day only."""
        now = datetime.now(UTC)
        resets = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        ok, used, reason = await self._admit(
            keys=[_day_key(key_id, now), running_runs_key(key_id)],
            args=[daily_limit, concurrent_limit, 2 * 24 * 3600, run_id, now.timestamp() - STALE_SECONDS, now.timestamp(),
                  "1" if track_running else "0"],
        )
        reason = reason.decode() if isinstance(reason, bytes) else reason
        return Admission(bool(ok), int(used), daily_limit, reason, resets)

    async def refund(self, key_id: str, run_id: str) -> None:
        """Give back the unit of a run that was admitted but could not be recorded."""
        now = datetime.now(UTC)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.decr(_day_key(key_id, now))
            pipe.zrem(running_runs_key(key_id), run_id)
            await pipe.execute()

    async def used_today(self, key_id: str) -> int:
        return int(await self.redis.get(_day_key(key_id, datetime.now(UTC))) or 0)
