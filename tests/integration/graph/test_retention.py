"""Retention on a real Redis Stack, through the library: a finished thread's keys expire after NEXA_RETENTION_DAYS,
an unfinished thread's never do, a finished thread that runs again is kept while it runs, `nexa threads prune`
deletes only finished threads, and Redis memory returns to its baseline once the expired keys are gone.

Each test has a Redis of its own: its memory and its whole keyspace are what is measured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis
from typer.testing import CliRunner

from nexa_research import PlanReviewPending, aresearch, aresume
from nexa_research.cli import app
from nexa_research.providers import InMemorySearch
from support.scripted_models import corpus_for, providers_for

pytestmark = pytest.mark.redis
TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]
QUICK = {"max_iterations": 1, "min_sections": 3, "max_sections": 3}
DAY = 86_400


@pytest.fixture
def own_redis(redis_stack_factory, monkeypatch) -> Iterator[redis.Redis]:
    server = redis_stack_factory()
    url = server.start()
    for name, value in (("REDIS_URL", url), ("NEXA_CHECKPOINTER", "redis"), ("NEXA_CACHE", "false")):
        monkeypatch.setenv(name, value)
    client = redis.Redis.from_url(url, decode_responses=True)
    yield client
    client.close()


def retention(monkeypatch, seconds: float) -> None:
    monkeypatch.setenv("NEXA_RETENTION_DAYS", repr(seconds / DAY))


def ttls(client: redis.Redis, thread_id: str) -> dict[str, int]:
    """Every key naming the thread, with its TTL (-1: no expiry)."""
    return {key: client.ttl(key) for key in client.scan_iter(match=f"*{thread_id}*", count=1000)}


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def settled_memory(client: redis.Redis) -> int:
    """used_memory once RediSearch's garbage collector has run (it frees expired documents' index entries every
    30 s by itself; forced here so the test need not wait)."""
    for index in ("checkpoint", "checkpoint_write"):
        client.execute_command("FT.DEBUG", "GC_FORCEINVOKE", index)
    return int(client.info("memory")["used_memory"])


class BrokenSearch(InMemorySearch):
    async def search(self, query, k, filters=None):
        raise RuntimeError("backend bug")  # a bug, not a provider failure: the run stops, resumable


async def test_a_finished_threads_keys_expire_and_unfinished_threads_keep_theirs(own_redis, monkeypatch) -> None:
    retention(monkeypatch, 3)
    await aresearch("The printing press", providers=providers_for(TITLES), thread_id="done", **QUICK)
    with pytest.raises(PlanReviewPending):
        await aresearch("The printing press", providers=providers_for(TITLES), thread_id="review", review_plan=True,
                        **QUICK)
    with pytest.raises(RuntimeError, match="backend bug"):
        await aresearch("The printing press", providers=providers_for(TITLES, search=BrokenSearch(corpus_for(TITLES))),
                        thread_id="failed", **QUICK)

    finished = ttls(own_redis, "done")
    assert len(finished) > 50 and all(0 < ttl <= 3 for ttl in finished.values()), finished
    for thread_id in ("review", "failed"):
        assert ttls(own_redis, thread_id) and set(ttls(own_redis, thread_id).values()) == {-1}

    wait_until(lambda: not ttls(own_redis, "done"), 20, "the finished thread's keys to expire")
    time.sleep(1)
    assert set(ttls(own_redis, "review").values()) == {-1} and set(ttls(own_redis, "failed").values()) == {-1}
    report = await aresume("review", resume="approve", providers=providers_for(TITLES))  # still resumable
    assert [s.title for s in report.sections] == TITLES


async def test_a_finished_thread_running_again_keeps_its_keys_while_it_runs(own_redis, monkeypatch) -> None:
    from nexa_research.threads import thread_history

    retention(monkeypatch, 600)
    await aresearch("The printing press", providers=providers_for(TITLES), thread_id="again", **QUICK)
    before = ttls(own_redis, "again")
    assert all(0 < ttl <= 600 for ttl in before.values())
    replay_from = next(s["checkpoint_id"] for s in await thread_history("again") if s["next"] == ["review_plan"])

    gate, searching = asyncio.Event(), asyncio.Event()

    class HeldSearch(InMemorySearch):
        async def search(self, query, k, filters=None):
            searching.set()
            await gate.wait()
            return await super().search(query, k, filters)

    replay = asyncio.create_task(aresume("again", checkpoint_id=replay_from,
                                         providers=providers_for(TITLES, search=HeldSearch(corpus_for(TITLES)))))
    await asyncio.wait_for(searching.wait(), 30)
    during = ttls(own_redis, "again")
    gate.set()
    report = await replay

    assert {key: during[key] for key in before} == dict.fromkeys(before, -1)  # no key of the thread was expiring
    assert [s.title for s in report.sections] == TITLES
    assert all(0 < ttl <= 600 for ttl in ttls(own_redis, "again").values())  # finished again: expiring again


async def test_memory_returns_to_its_baseline_once_finished_threads_expired(own_redis, monkeypatch) -> None:
    retention(monkeypatch, 2)
    await aresearch("A warm-up topic", providers=providers_for(TITLES), thread_id="warm-up", **QUICK)
    wait_until(lambda: own_redis.dbsize() == 0, 20, "the warm-up run's keys to expire")
    baseline = settled_memory(own_redis)

    for i in range(10):
        await aresearch(f"The printing press {i}", providers=providers_for(TITLES), thread_id=f"run-{i}", **QUICK)
    peak = int(own_redis.info("memory")["used_memory"])
    wait_until(lambda: own_redis.dbsize() == 0, 30, "the runs' keys to expire")
    after = settled_memory(own_redis)

    assert peak > baseline + 1_000_000  # the runs did hold memory (about 300 KiB each)
    assert after <= baseline * 1.05, f"baseline {baseline} B, after retention {after} B, peak {peak} B"


def test_prune_deletes_old_finished_threads_and_keeps_unfinished_ones(own_redis, monkeypatch) -> None:
    retention(monkeypatch, 0)  # nothing expires by itself: only prune deletes

    async def runs() -> None:
        await aresearch("The printing press", providers=providers_for(TITLES), thread_id="old-done", **QUICK)
        with pytest.raises(PlanReviewPending):
            await aresearch("The printing press", providers=providers_for(TITLES), thread_id="old-review",
                            review_plan=True, **QUICK)
        await asyncio.sleep(2.5)
        await aresearch("The printing press", providers=providers_for(TITLES), thread_id="new-done", **QUICK)

    asyncio.run(runs())
    cli = CliRunner()
    dry = cli.invoke(app, ["threads", "prune", "--older-than", "2s", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "old-done" in dry.output and "would remove 1 thread(s)" in dry.output
    assert "kept old-review: waiting for plan review" in dry.output
    old_keys = len(ttls(own_redis, "old-done"))

    pruned = cli.invoke(app, ["threads", "prune", "--older-than", "2s"])

    assert pruned.exit_code == 0, pruned.output
    assert f"removed 1 thread(s), {old_keys} key(s)" in pruned.output  # every key naming the thread, none other
    assert ttls(own_redis, "old-done") == {}
    assert ttls(own_redis, "old-review") and ttls(own_redis, "new-done")
