"""The cron scheduler: every API process looks for due crons every `cron_seconds` and creates their runs.

A run is created through `create_run` (server/run_requests.py), the code behind `POST /threads/{id}/runs` and
`POST /runs`, as the key that made the cron: the run is checked, counted against the key's day, recorded on its
thread, queued, leased and executed by a worker like any other. Exactly one process creates the run of a due
time: each claims the cron by moving its due score from that time to the next one with a compare-and-set
(cron_records.py `claim`), and only the process whose claim succeeded goes on. A process that dies between its
claim and the run loses that one run (at most once per due time), which is what a schedule can afford and what
keeps a due time from ever giving two runs.

A thread cron's run is queued behind one still running there (the official scheduler's multitask default,
`enqueue`) unless the cron asked otherwise; a thread cron whose thread is gone (deleted, expired) is deleted. A
stateless cron's run gets a new thread, deleted once the run ends unless `on_run_completed` is 'keep'. A run the
runs API refuses when it fires (the day's quota used, a revoked key, `reject` on a busy thread) is logged and
that due time is skipped.

A cron's run researches again: it runs with `use_cache` off unless the cron sets `use_cache` itself. A weekly
report on a topic served from the report cache (whose lifetime on a tier can be a week) would repeat last week's.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from nexa_research.server.access.api_keys import ApiKey
from nexa_research.server.api_errors import ApiError
from nexa_research.server.context import ServerContext
from nexa_research.server.cron_records import CronStore
from nexa_research.server.cron_schedule import next_due
from nexa_research.server.knobs import knob_values
from nexa_research.server.observability.logs import new_correlation_id
from nexa_research.server.periodic import repeating
from nexa_research.server.routes.threads import delete_thread
from nexa_research.server.run_requests import RunCreate, create_run

logger = logging.getLogger(__name__)


class CronScheduler:
    def __init__(self, ctx: ServerContext, period_seconds: float) -> None:
        self.ctx, self.period = ctx, period_seconds
        self.store = CronStore(ctx.redis)

    def running(self) -> AbstractAsyncContextManager[None]:
        """Schedule in the background while the block runs; a tick under way finishes first (bounded)."""
        return repeating(self.tick, self.period, "cron scheduling")

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Create the runs of the crons due at `now`; the ids of the runs this process created."""
        now = now or datetime.now(UTC)
        created = []
        for cron_id, seen in await self.store.due(now.timestamp()):
            cron = await self.store.get(cron_id)
            following = next_due(cron, now) if cron is not None else None
            if not await self.store.claim(cron_id, seen, following) or cron is None:
                continue  # another process fired it, or it was changed or deleted meanwhile
            run_id = await self.fire(cron)
            if run_id is not None:
                created.append(run_id)
        await self._delete_finished_threads()
        return created

    async def fire(self, cron: dict[str, Any]) -> str | None:
        """Create the cron's run as the runs API would for its key; the run id, or None if it was refused."""
        key = await self._key_of(cron)
        if cron.get("owner") is not None and key is None:
            logger.warning("cron %s not fired: the API key that made it is revoked or gone", cron["cron_id"])
            return None
        payload = cron["payload"]
        metadata = {**cron["metadata"], **(payload.get("metadata") or {}), "cron_id": cron["cron_id"]}
        context = dict(payload.get("context") or {})
        if "use_cache" not in knob_values(payload.get("config"), context):
            context["use_cache"] = False  # fresh research at every due time (module docstring)
        body = RunCreate(**{**payload, "metadata": metadata, "context": context,
                            "multitask_strategy": payload.get("multitask_strategy") or "enqueue"})
        try:
            run = await create_run(self.ctx, cron["thread_id"], body, _request_as(key))
        except ApiError as exc:
            if cron["thread_id"] and await self.ctx.store.get_thread(cron["thread_id"]) is None:
                logger.info("cron %s deleted: its thread %s is gone", cron["cron_id"], cron["thread_id"])
                await self.store.delete(cron["cron_id"])
            else:
                logger.warning("cron %s did not fire: %s (%d)", cron["cron_id"], exc.message, exc.status)
            return None
        if cron["thread_id"] is None and cron.get("on_run_completed", "delete") == "delete":
            await self.store.delete_after_run(run["thread_id"])
        logger.info("cron %s fired run %s on thread %s", cron["cron_id"], run["run_id"], run["thread_id"])
        return str(run["run_id"])

    async def _key_of(self, cron: dict[str, Any]) -> ApiKey | None:
        if cron.get("owner") is None:
            return None
        key = await self.ctx.keys.get(cron["owner"])
        return None if key is None or key.revoked else key

    async def _delete_finished_threads(self) -> None:
        """Delete the threads of stateless crons' runs that ended (`on_run_completed` 'delete')."""
        for thread_id in await self.store.threads_to_delete():
            if await self.ctx.store.active_runs_of(thread_id):
                continue
            if not await self.store.take_thread_to_delete(thread_id):
                continue  # another process took it
            record = await self.ctx.store.get_thread(thread_id)
            if record is not None:
                await delete_thread(self.ctx, record.get("owner"), thread_id)


def _request_as(key: ApiKey | None) -> Request:
    """A request as the cron's key made it: what `create_run` reads of one (the key, a correlation id for the
    worker's logs, the admission it leaves behind)."""
    return Request({"type": "http", "method": "POST", "path": "/runs/crons", "headers": [], "query_string": b"",
                    "state": {"api_key": key, "correlation_id": new_correlation_id()}})
