"""What the job queue holds, read back from its Redis stream, and a worker's receipt of a message: tests count
messages per run and take messages as a worker does with these."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

from nexa_research.server.job_queue import GROUP, QUEUE


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


async def live_messages_per_run(redis: Redis) -> Counter[str]:
    """Messages per run that a worker may still act on: after the group's last delivery, or delivered and pending."""
    entries = await redis.xrange(QUEUE)
    if not entries:
        return Counter()
    groups = await redis.xinfo_groups(QUEUE)
    group = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
    delivered = _stream_id(group["last-delivered-id"]) if group else (0, 0)
    pending = {_text(p["message_id"]) for p in await redis.xpending_range(QUEUE, GROUP, "-", "+", 10_000)} if group else set()
    live: Counter[str] = Counter()
    for entry_id, fields in entries:
        if _stream_id(entry_id) > delivered or _text(entry_id) in pending:
            live[json.loads(fields[b"data"])["args"][0]] += 1
    return live


def _stream_id(value: bytes | str) -> tuple[int, int]:
    milliseconds, _, sequence = _text(value).partition("-")
    return int(milliseconds), int(sequence or 0)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
