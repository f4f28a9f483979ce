"""A finished run's result (its final values, `__interrupt__`, or `__error__`), kept for `join` and `wait`.

Stored apart from the run record so listing runs stays light, and kept as long as the run's events.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from nexa_research.server.records import PREFIX


def result_key(run_id: str) -> str:
    return f"{PREFIX}:run:{run_id}:result"


async def store_result(redis: Redis, run_id: str, result: Any, ttl_seconds: int) -> None:
    await redis.set(result_key(run_id), json.dumps(result), ex=ttl_seconds)


async def load_result(redis: Redis, run_id: str) -> Any:
    raw = await redis.get(result_key(run_id))
    return json.loads(raw) if raw else None
