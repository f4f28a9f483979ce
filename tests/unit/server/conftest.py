"""Redis for the server's unit tests: fakeredis, in this process (streams, consumer groups, Lua scripts included).

The server modules are thin layers over Redis commands; what they promise (one lease holder, a run queued once,
records and their indexes in step) is checked here against fakeredis, and against the real Redis Stack by the
integration tests (tests/integration/server/) that run whole servers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import fakeredis
import pytest
from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

from nexa_research.server.job_queue import make_broker


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    yield client
    await client.aclose()


@pytest.fixture
def broker_for(redis: Redis) -> Callable[[str], RedisStreamBroker]:
    """Brokers as `make_broker` makes them (one per worker name), talking to the test's fakeredis."""

    def make(consumer_name: str) -> RedisStreamBroker:
        broker = make_broker("redis://fakeredis.invalid:6379/0", consumer_name=consumer_name)
        broker.connection_pool = redis.connection_pool
        return broker

    return make  # the pool is the test client's: the `redis` fixture closes it
