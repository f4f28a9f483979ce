"""What the job queue holds, read back from its Redis stream, and a worker's receipt of a message: tests count
messages per run and take messages as a worker does with these."""

from __future__ import annotations

import asyncio
import json

from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

from nexa_research.server.job_queue import QUEUE


async def queued_run_ids(redis: Redis) -> list[str]:
    """The run id of every message in the queue stream, oldest first, whether a worker has read it or not."""
    return [json.loads(fields[b"data"])["args"][0] for _, fields in await redis.xrange(QUEUE)]


async def receive(broker: RedisStreamBroker, wait: float = 5) -> dict | None:
    """The next message this worker's listener yields (acknowledged, as the worker does), or None if none comes
    within `wait` seconds. A waiting message is read at once; an empty queue blocks a read for 1 s (xread_block)."""
    listener = broker.listen()
    try:
        message = await asyncio.wait_for(anext(listener), wait)
    except TimeoutError:
        return None
    finally:
        await listener.aclose()
    await message.ack()
    return json.loads(message.data)
