"""The run lease: the guarantee that a run executes on exactly one worker at a time.

The job queue delivers "execute run R" messages; it may deliver one twice (a re-kick by the reaper, a duplicate
after a restart). What makes execution single is this lease: a Redis key per run, set only if absent, holding
the worker's id, with a TTL. The holder renews it every `ttl / 3` seconds; a renewal that finds the key gone or
held by another worker means the lease was lost (the process stalled past the TTL), and the holder stops the
run at once. A SIGKILLed worker stops renewing, the key expires after `ttl`, and the reaper of any live worker
(server/reaper.py) re-kicks the run, which continues from its Redis checkpoint.

Renew and release are compare-and-set Lua scripts, so a worker never extends or deletes another's lease.
"""

from __future__ import annotations

from redis.asyncio import Redis

from nexa_research.server.records import PREFIX

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def lease_key(run_id: str) -> str:
    return f"{PREFIX}:run:{run_id}:lease"


def cancel_key(run_id: str) -> str:
    return f"{PREFIX}:run:{run_id}:cancel"


class RunLease:
    """One worker's hold on one run."""

    def __init__(self, redis: Redis, run_id: str, holder: str, ttl_seconds: float) -> None:
        self.redis = redis
        self.key = lease_key(run_id)
        self.holder = holder
        self.ttl_ms = max(1000, int(ttl_seconds * 1000))

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        """False when the lease is no longer ours (expired, or taken by another worker)."""
        return bool(await self.redis.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms))

    async def release(self) -> None:
        await self.redis.eval(_RELEASE, 1, self.key, self.holder)


async def lease_holder(redis: Redis, run_id: str) -> str | None:
    raw = await redis.get(lease_key(run_id))
    return raw.decode() if isinstance(raw, bytes) else raw


async def request_cancel(redis: Redis, run_id: str, action: str, ttl_seconds: int = 3600) -> None:
    """Ask the worker running `run_id` to stop it (`action`: interrupt or rollback); it checks every second."""
    await redis.set(cancel_key(run_id), action, ex=ttl_seconds)


async def cancel_requested(redis: Redis, run_id: str) -> str | None:
    raw = await redis.get(cancel_key(run_id))
    return raw.decode() if isinstance(raw, bytes) else raw
