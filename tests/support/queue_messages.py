"""What the job queue holds, read back from its Redis stream: tests count messages per run with it."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from nexa_research.server.job_queue import QUEUE


async def queued_run_ids(redis: Redis) -> list[str]:
    """The run id of every message in the queue stream, oldest first, whether a worker has read it or not."""
    return [json.loads(fields[b"data"])["args"][0] for _, fields in await redis.xrange(QUEUE)]
