"""Background passes of an API process (retention sweep, cron scheduler): a failing pass, whether Redis restarting
or a bug, is logged and the next one runs; stopping waits for a pass under way, and no longer than its bound."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from nexa_research.server import periodic
from nexa_research.server.periodic import repeating


async def test_a_failing_pass_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    passes: list[int] = []
    failures = [RedisConnectionError("Redis is loading"), KeyError("a bug")]

    async def step() -> None:
        passes.append(len(passes))
        if failures:
            raise failures.pop(0)

    with caplog.at_level(logging.WARNING, logger="nexa_research.server.periodic"):
        async with repeating(step, 0.01, "test pass"):
            while len(passes) < 4:
                await asyncio.sleep(0.01)
    assert len(passes) >= 4
    messages = [r.getMessage() for r in caplog.records]
    assert any("test pass failed (ConnectionError: Redis is loading)" in m for m in messages)
    assert any(r.exc_info and "test pass failed" in r.getMessage() for r in caplog.records)  # the bug's traceback


async def test_stopping_waits_for_the_pass_under_way_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    finished: list[str] = []

    async def short() -> None:
        await asyncio.sleep(0.05)
        finished.append("short")

    async with repeating(short, 60, "short pass"):
        await asyncio.sleep(0.01)  # the first pass is under way when the block ends
    assert finished == ["short"]

    monkeypatch.setattr(periodic, "FINISH_SECONDS", 0.05)
    cancelled = asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with repeating(stuck, 60, "stuck pass"):
        await asyncio.sleep(0.01)
    assert cancelled.is_set()
