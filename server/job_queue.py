"""The job queue between API processes and workers: taskiq over a Redis stream (taskiq-redis).

Why taskiq-redis: it is async-native (our runs are asyncio all the way down), it uses redis-py >= 8 like the
checkpointer (arq 0.28 pins redis-py < 6, which langgraph-checkpoint-redis cannot live with), and a Redis stream
with a consumer group gives each message to one worker. Celery would run our async graph inside sync tasks.
What taskiq-redis does not give (a bounded pick-up of a killed worker's job, cancel of a running job, a
guarantee against a second delivery) comes from the run lease, the reaper and the cancel key
(server/lease.py, server/reaper.py); the queue only has to deliver "execute run R" at least once.

Messages are acknowledged when received: a worker that dies after that loses nothing, because the run's
record, not the message, is the truth, and the reaper re-kicks an active run that no live worker holds. Each
worker reads one message at a time and only when it has a free slot (`xread_count=1`, no prefetch), so no
message waits inside a busy worker while another worker is idle.
"""

from __future__ import annotations

from taskiq import AsyncBroker
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from nexa_research.server.records import PREFIX
from nexa_research.server.settings import REDIS_SOCKET_TIMEOUT

QUEUE = f"{PREFIX}:queue"
GROUP = "nexa-workers"
EXECUTE_RUN = "nexa_research.execute_run"


def make_broker(redis_url: str, consumer_name: str | None = None) -> RedisStreamBroker:
    """The broker both sides use: the API kicks messages with it, a worker listens with it."""
    return RedisStreamBroker(
        redis_url,
        queue_name=QUEUE,
        consumer_group_name=GROUP,
        consumer_name=consumer_name,
        consumer_id="0",  # a group created after messages were kicked still sees them
        xread_block=1000,
        xread_count=1,
        maxlen=100_000,
        # taskiq-redis holds a lock around its reclaim of unacknowledged messages; without a timeout, a worker
        # killed while holding it would stall every other worker's listener for good.
        unacknowledged_lock_timeout=5,
        socket_timeout=REDIS_SOCKET_TIMEOUT,  # a worker's loop busy for a few seconds must not kill its listener
    )


async def enqueue_run(broker: AsyncBroker, run_id: str) -> None:
    """Ask some worker to execute `run_id` (no-op for it when the run is finished or held by another worker)."""
    kicker: AsyncKicker[[str], None] = AsyncKicker(EXECUTE_RUN, broker, labels={})  # typed: the task is by name
    await kicker.kiq(run_id)
