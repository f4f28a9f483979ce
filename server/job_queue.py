"""The job queue between API processes and workers: taskiq over a Redis stream (taskiq-redis), one live message
per run.

Why taskiq-redis: it is async-native (our runs are asyncio all the way down), it uses redis-py >= 8 like the
checkpointer (arq 0.28 pins redis-py < 6, which langgraph-checkpoint-redis cannot live with), and a Redis stream
with a consumer group gives each message to one worker. Celery would run our async graph inside sync tasks.
What taskiq-redis does not give (a bounded pick-up of a killed worker's job, cancel of a running job, a
guarantee against a second delivery) comes from the run lease, the reaper and the cancel key
(server/lease.py, server/reaper.py); the queue only has to deliver "execute run R" at least once.

At most one live message per run: the hash `QUEUED` maps a run to the id of its message that no worker has
acknowledged yet. Queuing a run that has one is a no-op, and acknowledging a message removes its entry, each in
one Lua script, so the API, a worker handing runs back and every reaper may ask to queue a run at any time and a
backlog never fills with copies (issue 19: 386 messages for 14 runs). The hash's size is the number of runs
waiting for a worker, which /metrics and /health/detailed report. A message a worker received and never
acknowledged (it died in between) stays in the stream's pending entries list; the reaper re-delivers it once
(`redeliver`), so taskiq-redis's own re-claim of idle messages is switched off: one mechanism, not two.

Messages are acknowledged when received: a worker that dies after that loses nothing, because the run's
record, not the message, is the truth, and the reaper re-queues an active run that no live worker holds. Each
worker reads one message at a time and only when it has a free slot (`xread_count=1`, no prefetch), so no
message waits inside a busy worker while another worker is idle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from taskiq.message import TaskiqMessage
from taskiq_redis import RedisStreamBroker

from nexa_research.server.event_log import stream_position
from nexa_research.server.records import PREFIX
from nexa_research.server.settings import REDIS_SOCKET_TIMEOUT

QUEUE = f"{PREFIX}:queue"
QUEUED = f"{PREFIX}:queued"  # run id -> id of its one message not yet acknowledged by a worker
GROUP = "nexa-workers"
EXECUTE_RUN = "nexa_research.execute_run"
MAXLEN = 100_000
NEVER_MS = 10 * 365 * 24 * 3600 * 1000  # taskiq-redis's idle re-claim, switched off: the reaper re-delivers

_KICK = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'data', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], id)
return id
"""

# The run's id is read from the message itself (its first argument), so the ack needs nothing but the message id.
_ACK = """
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])[1]
if entry then
  local ok, message = pcall(cjson.decode, entry[2][2])
  local run_id = ok and type(message) == 'table' and type(message.args) == 'table' and message.args[1]
  if type(run_id) == 'string' and redis.call('HGET', KEYS[2], run_id) == ARGV[2] then
    redis.call('HDEL', KEYS[2], run_id)
  end
end
return acked
"""

# A lost delivery: acknowledge it (only one caller succeeds) and add its data again as the run's one message.
_REDELIVER = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return false end
if redis.call('XACK', KEYS[1], ARGV[3], ARGV[2]) == 0 then return false end
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])[1]
if not entry then redis.call('HDEL', KEYS[2], ARGV[1]) return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'data', entry[2][2])
redis.call('HSET', KEYS[2], ARGV[1], id)
return id
"""

# A run's entry whose message is gone from the queue (acknowledged outside `_ACK`, trimmed): drop the entry and
# acknowledge the message in case it is still pending, so nothing counts or waits on it any more.
_FORGET = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('XACK', KEYS[1], ARGV[3], ARGV[2])
return redis.call('HDEL', KEYS[2], ARGV[1])
"""


class RunQueueBroker(RedisStreamBroker):
    """taskiq-redis's stream broker with one live message per run (see the module's docstring)."""

    def _redis(self) -> Redis:
        return Redis(connection_pool=self.connection_pool)

    async def enqueue_run(self, run_id: str) -> bool:
        """Queue "execute `run_id`" unless a message for it is still waiting; True when one was added."""
        message = TaskiqMessage(task_id=self.id_generator(), task_name=EXECUTE_RUN, labels={}, labels_types={},
                                args=[run_id], kwargs={})
        async with self._redis() as redis:
            added = await redis.eval(_KICK, 2, self.queue_name, QUEUED, run_id, self.formatter.dumps(message).message,
                                     MAXLEN)
        return added is not None

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:  # noqa: A002
        """taskiq-redis acknowledges through this: the run's entry goes with the acknowledgement."""

        async def ack() -> None:
            async with self._redis() as redis:
                await redis.eval(_ACK, 2, queue_name, QUEUED, self.consumer_group_name, id)

        return ack


def make_broker(redis_url: str, consumer_name: str | None = None) -> RunQueueBroker:
    """The broker both sides use: the API queues messages with it, a worker listens with it."""
    return RunQueueBroker(
        redis_url,
        queue_name=QUEUE,
        consumer_group_name=GROUP,
        consumer_name=consumer_name,
        consumer_id="0",  # a group created after messages were kicked still sees them
        xread_block=1000,
        xread_count=1,
        maxlen=MAXLEN,
        idle_timeout=NEVER_MS,
        # taskiq-redis holds a lock around its reclaim of unacknowledged messages; without a timeout, a worker
        # killed while holding it would stall every other worker's listener for good.
        unacknowledged_lock_timeout=5,
        socket_timeout=REDIS_SOCKET_TIMEOUT,  # a worker's loop busy for a few seconds must not kill its listener
    )


async def enqueue_run(broker: RunQueueBroker, run_id: str) -> bool:
    """Ask some worker to execute `run_id` (no-op for it when the run is finished or held by another worker);
    nothing is added while a message for the run still waits. True when a message was added."""
    return await broker.enqueue_run(run_id)


async def redeliver(redis: Redis, run_id: str, message_id: str) -> bool:
    """Re-deliver a message a worker received and never acknowledged, once whoever many reapers try."""
    return await redis.eval(_REDELIVER, 2, QUEUE, QUEUED, run_id, message_id, GROUP, MAXLEN) is not None


async def drop_message(redis: Redis, run_id: str, message_id: str) -> None:
    """Drop a run's entry whose message no worker can receive any more."""
    await redis.eval(_FORGET, 2, QUEUE, QUEUED, run_id, message_id, GROUP)


async def queued_messages(redis: Redis, lost_after_ms: int) -> dict[str, tuple[str, str]]:
    """Each queued run's message and where it is: "waiting" for a worker, "delivering" (received, not yet
    acknowledged), "lost" (received and not acknowledged for `lost_after_ms`: its worker died) or "gone" (no
    worker can receive it: acknowledged without its entry, or trimmed away)."""
    entries = {_text(run): _text(message) for run, message in (await redis.hgetall(QUEUED)).items()}
    if not entries:
        return {}
    try:
        groups = await redis.xinfo_groups(QUEUE)
    except ResponseError:  # no stream
        return {run: (message, "gone") for run, message in entries.items()}
    group = next((g for g in groups if _text(g["name"]) == GROUP), None)
    delivered = stream_position(_text(group["last-delivered-id"])) if group else (0, 0)
    states = {}
    for run, message in entries.items():
        if stream_position(message) > delivered:
            states[run] = (message, "waiting")
            continue
        pending = await redis.xpending_range(QUEUE, GROUP, min=message, max=message, count=1) if group else []
        if not pending:
            states[run] = (message, "gone")
        else:
            idle = int(pending[0]["time_since_delivered"])
            states[run] = (message, "lost" if idle >= lost_after_ms else "delivering")
    return states


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def runs_waiting(redis: Redis) -> int:
    """Runs with a message no worker has taken yet: the backlog, counted in runs, not stream entries."""
    return int(await redis.hlen(QUEUED))


async def trim_delivered(redis: Redis) -> int:
    """Drop the queue's entries no worker needs any more (delivered and acknowledged, not a run's live message);
    the number dropped. Without this the stream keeps every run's message up to MAXLEN (about 100,000: tens of
    megabytes) after its run is long gone."""
    try:
        groups = await redis.xinfo_groups(QUEUE)
    except ResponseError:  # no stream yet
        return 0
    group = next((g for g in groups if _text(g["name"]) == GROUP), None)
    if group is None:
        return 0  # no worker ever read it: every entry may still be wanted
    needed = [_text(group["last-delivered-id"]), *(_text(m) for m in (await redis.hgetall(QUEUED)).values())]
    pending = await redis.xpending(QUEUE, GROUP)
    if pending["pending"]:
        needed.append(_text(pending["min"]))
    oldest = min(needed, key=stream_position)
    return int(await redis.xtrim(QUEUE, minid=oldest, approximate=False))
