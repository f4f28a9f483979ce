"""The run lease: one holder per run, renewed and released only by its holder; cancel requests a worker reads."""

from __future__ import annotations

from redis.asyncio import Redis

from nexa_research.server.lease import (
    RunLease,
    cancel_requested,
    lease_holder,
    lease_key,
    request_cancel,
)


async def test_one_worker_holds_a_run_and_a_second_acquire_fails(redis: Redis) -> None:
    first, second = RunLease(redis, "r1", "w1", 20), RunLease(redis, "r1", "w2", 20)

    assert await first.acquire()
    assert not await second.acquire()
    assert await lease_holder(redis, "r1") == "w1"
    assert await RunLease(redis, "r2", "w2", 20).acquire()  # another run is free


async def test_the_holder_renews_to_the_full_ttl_and_another_worker_cannot(redis: Redis) -> None:
    lease = RunLease(redis, "r1", "w1", 20)
    await lease.acquire()
    await redis.pexpire(lease_key("r1"), 5_000)  # time passed since the last renewal

    assert not await RunLease(redis, "r1", "w2", 20).renew()
    assert await redis.pttl(lease_key("r1")) <= 5_000
    assert await lease.renew()
    assert 15_000 < await redis.pttl(lease_key("r1")) <= 20_000


async def test_a_lease_that_expired_is_lost_even_after_another_worker_took_it(redis: Redis) -> None:
    stalled = RunLease(redis, "r1", "w1", 20)
    await stalled.acquire()
    await redis.delete(lease_key("r1"))  # what the TTL does to a worker that stopped renewing

    assert not await stalled.renew()
    taker = RunLease(redis, "r1", "w2", 20)
    assert await taker.acquire()
    assert not await stalled.renew()
    assert await lease_holder(redis, "r1") == "w2"


async def test_release_frees_the_run_but_never_deletes_another_workers_lease(redis: Redis) -> None:
    lease = RunLease(redis, "r1", "w1", 20)
    await lease.acquire()

    await RunLease(redis, "r1", "w2", 20).release()
    assert await lease_holder(redis, "r1") == "w1"
    await lease.release()
    assert await lease_holder(redis, "r1") is None
    assert await RunLease(redis, "r1", "w2", 20).acquire()


async def test_a_lease_is_never_shorter_than_a_second(redis: Redis) -> None:
    lease = RunLease(redis, "r1", "w1", 0.01)
    await lease.acquire()

    assert 900 < await redis.pttl(lease_key("r1")) <= 1_000


async def test_a_cancel_request_names_its_action_and_expires(redis: Redis) -> None:
    assert await cancel_requested(redis, "r1") is None

    await request_cancel(redis, "r1", "interrupt", ttl_seconds=60)

    assert await cancel_requested(redis, "r1") == "interrupt"
    assert await cancel_requested(redis, "r2") is None
    assert 0 < await redis.ttl("nexa:srv:run:r1:cancel") <= 60
