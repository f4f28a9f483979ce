"""The worker's one watcher: a cancelled run is stopped with its action, a run whose lease was lost is stopped,
leases that are due are renewed, and every run is stopped once."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from nexa_research.server.lease import RunLease, lease_key, request_cancel
from nexa_research.server.run_watch import RunWatch


@pytest.fixture
def stopped() -> list[tuple[str, str]]:
    return []


async def watched(redis: Redis, stopped: list[tuple[str, str]], *run_ids: str, ttl: float = 30) -> RunWatch:
    watch = RunWatch(redis, ttl, lambda run_id, reason: stopped.append((run_id, reason)))
    for run_id in run_ids:
        lease = RunLease(redis, run_id, "w1", ttl)
        assert await lease.acquire()
        watch.add(run_id, lease)
    return watch


async def test_a_cancelled_run_is_stopped_with_its_action_and_only_once(redis: Redis, stopped) -> None:
    watch = await watched(redis, stopped, "r1", "r2", "r3")
    await request_cancel(redis, "r2", "rollback")

    await watch.check()
    await watch.check()

    assert stopped == [("r2", "cancel:rollback")]


async def test_a_run_whose_lease_another_worker_took_is_stopped_and_the_others_are_renewed(redis: Redis, stopped) -> None:
    watch = await watched(redis, stopped, "r1", "r2", ttl=3)  # renewals due every second
    await redis.delete(lease_key("r2"))
    assert await RunLease(redis, "r2", "w2", 3).acquire()
    await redis.pexpire(lease_key("r1"), 500)  # time passed since r1's last renewal
    watch.renew_every = 0  # every lease is due now

    await watch.check()

    assert stopped == [("r2", "lease lost")]
    assert 2_000 < await redis.pttl(lease_key("r1")) <= 3_000
    assert await redis.get(lease_key("r2")) == b"w2"  # the other worker's lease is left alone


async def test_a_lease_is_renewed_only_when_due(redis: Redis, stopped) -> None:
    watch = await watched(redis, stopped, "r1", ttl=30)
    await redis.pexpire(lease_key("r1"), 5_000)

    await watch.check()

    assert await redis.pttl(lease_key("r1")) <= 5_000  # a third of the TTL has not passed since it was acquired
    assert stopped == []


async def test_a_run_no_longer_watched_is_not_stopped(redis: Redis, stopped) -> None:
    watch = await watched(redis, stopped, "r1")
    await request_cancel(redis, "r1", "interrupt")
    watch.discard("r1")

    await watch.check()

    assert stopped == []
