"""Thread and run records of the server, kept in Redis so every API process and worker sees the same ones.

The graph's own state (values, next steps, interrupts, history) lives in the Redis checkpointer and is read from
there; these records hold only what the LangGraph server API adds around it: when a thread or run was created,
its metadata, a run's status and the arguments it was created with. Records are JSON strings under
`nexa:srv:*` keys, indexed by sorted sets (by time) for listing and search.

Run statuses are the API's: pending, running, success, error, timeout, interrupted. A run is "active" while
pending or running; the `active` set is what the workers' reaper scans to pick up a dead worker's run.

Retention (nexa_research/retention.py) sets an expiry on a finished thread's records; writing a record keeps the
expiry it has (a worker's last update of a run can land after its thread was settled), and a thread whose record
expired is taken off the thread list by `forget_expired_threads`.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

PREFIX = "nexa:srv"
ACTIVE_STATUSES = frozenset({"pending", "running"})
FINAL_STATUSES = frozenset({"success", "error", "timeout", "interrupted"})


def running_runs_key(owner: str) -> str:
    """The runs of an API key in progress (scored by start time); the quota script counts them."""
    return f"{PREFIX}:quota:{owner}:running"


def _texts(raw: Any) -> list[str]:
    """Members as read from Redis (bytes without decode_responses) as strings."""
    return [i.decode() if isinstance(i, bytes) else str(i) for i in raw]


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    """Unguessable ids (uuid4: 122 random bits)."""
    return str(uuid.uuid4())


class RecordStore:
    """Reads and writes thread and run records; one per process, over an async Redis client."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    # keys -------------------------------------------------------------------------------------------------
    @staticmethod
    def thread_key(thread_id: str) -> str:
        return f"{PREFIX}:thread:{thread_id}"

    @staticmethod
    def run_key(run_id: str) -> str:
        return f"{PREFIX}:run:{run_id}"

    @staticmethod
    def thread_runs_key(thread_id: str) -> str:
        return f"{PREFIX}:thread:{thread_id}:runs"

    THREADS = f"{PREFIX}:threads"
    ACTIVE = f"{PREFIX}:active"

    # threads ----------------------------------------------------------------------------------------------
    async def get_thread(self, thread_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.thread_key(thread_id))
        return json.loads(raw) if raw else None

    async def put_thread(self, thread: dict[str, Any]) -> dict[str, Any]:
        thread = {**thread, "updated_at": now_iso()}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.thread_key(thread["thread_id"]), json.dumps(thread), keepttl=True)
            pipe.zadd(self.THREADS, {thread["thread_id"]: time.time()})
            await pipe.execute()
        return thread

    async def create_thread(
        self, thread_id: str | None, metadata: dict[str, Any], owner: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """The thread (created unless it exists) and whether it was created now. `owner`: the API key id."""
        thread_id = thread_id or new_id()
        stamp = now_iso()
        thread = {"thread_id": thread_id, "created_at": stamp, "updated_at": stamp, "metadata": metadata,
                  "status": "idle", "config": {}, "error": None, "owner": owner}
        created = await self.redis.set(self.thread_key(thread_id), json.dumps(thread), nx=True)
        if not created:
            existing = await self.get_thread(thread_id)
            return existing or thread, False
        await self.redis.zadd(self.THREADS, {thread_id: time.time()})
        return thread, True

    async def thread_ids(self, offset: int, limit: int) -> list[str]:
        """Thread ids, most recently updated first."""
        ids = await self.redis.zrevrange(self.THREADS, offset, offset + limit - 1)
        return _texts(ids)

    async def all_thread_ids(self) -> list[str]:
        ids = await self.redis.zrevrange(self.THREADS, 0, -1)
        return _texts(ids)

    async def forget_expired_threads(self, updated_before: float, offset: int = 0, limit: int = 1000) -> tuple[int, int]:
        """Take threads whose record is gone (expired) off the thread list, looking at those last updated before
        `updated_before` (epoch seconds), oldest first, `limit` from `offset`: (taken off, looked at). Threads
        kept (unfinished) stay listed, so a caller walks on with the offset rather than reading them again."""
        ids = _texts(await self.redis.zrangebyscore(self.THREADS, "-inf", updated_before, start=offset, num=limit))
        if not ids:
            return 0, 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for thread_id in ids:
                pipe.exists(self.thread_key(thread_id))
            present = await pipe.execute()
        gone = [thread_id for thread_id, here in zip(ids, present, strict=True) if not here]
        return (int(await self.redis.zrem(self.THREADS, *gone)) if gone else 0), len(ids)

    async def delete_thread(self, thread_id: str) -> list[str]:
        """Delete the thread's record and its runs' records; return the run ids."""
        run_ids = await self.run_ids(thread_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.thread_key(thread_id), self.thread_runs_key(thread_id))
            pipe.zrem(self.THREADS, thread_id)
            for run_id in run_ids:
                pipe.delete(self.run_key(run_id))
                pipe.zrem(self.ACTIVE, run_id)
            await pipe.execute()
        return run_ids

    # runs -------------------------------------------------------------------------------------------------
    async def get_run(self, run_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.run_key(run_id))
        return json.loads(raw) if raw else None

    async def put_run(self, run: dict[str, Any]) -> dict[str, Any]:
        """Write a run record; keep the active index in step with its status."""
        run = {**run, "updated_at": now_iso()}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.run_key(run["run_id"]), json.dumps(run), keepttl=True)
            if run["status"] in ACTIVE_STATUSES:
                pipe.zadd(self.ACTIVE, {run["run_id"]: time.time()}, nx=True)
            else:
                pipe.zrem(self.ACTIVE, run["run_id"])
                if run.get("owner"):
                    pipe.zrem(running_runs_key(run["owner"]), run["run_id"])
            await pipe.execute()
        return run

    async def add_run(self, run: dict[str, Any]) -> dict[str, Any]:
        run = await self.put_run(run)
        await self.redis.zadd(self.thread_runs_key(run["thread_id"]), {run["run_id"]: time.time()})
        return run

    async def update_run(self, run_id: str, **fields: Any) -> dict[str, Any] | None:
        run = await self.get_run(run_id)
        if run is None:
            return None
        return await self.put_run({**run, **fields})

    async def run_ids(self, thread_id: str) -> list[str]:
        """The thread's run ids, oldest first."""
        ids = await self.redis.zrange(self.thread_runs_key(thread_id), 0, -1)
        return _texts(ids)

    async def runs_of(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's runs, oldest first."""
        ids = await self.run_ids(thread_id)
        if not ids:
            return []
        raws = await self.redis.mget([self.run_key(i) for i in ids])
        return [json.loads(r) for r in raws if r]

    async def active_runs_of(self, thread_id: str) -> list[dict[str, Any]]:
        return [r for r in await self.runs_of(thread_id) if r["status"] in ACTIVE_STATUSES]

    async def delete_run(self, run: dict[str, Any]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.run_key(run["run_id"]))
            pipe.zrem(self.thread_runs_key(run["thread_id"]), run["run_id"])
            pipe.zrem(self.ACTIVE, run["run_id"])
            await pipe.execute()

    async def active_run_ids(self) -> list[str]:
        ids = await self.redis.zrange(self.ACTIVE, 0, -1)
        return _texts(ids)

    def thread_lock(self, thread_id: str, timeout: float = 10.0) -> Any:
        """A short lock across API processes around "check the thread's active runs, then add one"."""
        return self.redis.lock(f"{PREFIX}:thread:{thread_id}:lock", timeout=timeout, blocking_timeout=timeout)
