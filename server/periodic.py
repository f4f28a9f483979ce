"""Work an API process repeats in the background: the retention sweep and the cron scheduler.

Both run every few seconds for the process's life, both must survive Redis restarting under them (logged, tried
again next period) and a bug in one pass (logged with its traceback, so one bad thread or cron does not end the
loop for every other), and both stop with the process: a pass under way finishes first, within a bound, since
each is safe to cut short.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
# How long a stopping process waits for a pass under way, then for the cancelled task.
FINISH_SECONDS = 10.0
CANCEL_SECONDS = 5.0


async def repeat(step: Callable[[], Awaitable[Any]], period: float, stop: asyncio.Event, what: str) -> None:
    """Run `step` every `period` seconds until `stop` is set; `what` names it in the log."""
    while not stop.is_set():
        try:
            await step()
        except (RedisError, OSError) as exc:
            logger.warning("%s failed (%s: %s); trying again in %g s", what, type(exc).__name__, exc, period)
        except Exception:  # noqa: BLE001 - a bug in one pass must not end the loop for the process's life
            logger.exception("%s failed; trying again in %g s", what, period)
        waiter = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter}, timeout=period)
        waiter.cancel()


@asynccontextmanager
async def repeating(step: Callable[[], Awaitable[Any]], period: float, what: str) -> AsyncIterator[None]:
    """`repeat` in the background while the block runs; on the way out a pass under way finishes first (bounded)."""
    stop = asyncio.Event()
    task = asyncio.create_task(repeat(step, period, stop, what))
    try:
        yield
    finally:
        stop.set()
        done, _ = await asyncio.wait({task}, timeout=FINISH_SECONDS)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=CANCEL_SECONDS)
