"""What an API process holds while it serves: the run runtime, Redis, the records, the event log, the queue.

Opened once by the app's lifespan. The runtime is the same `ResearchRuntime` the library and the workers use:
the API reads thread state and history from its checkpointer, writes plan edits through its graph, and runs
the LangServe routes on it; runs of the LangGraph API go to the workers through the queue. It also sweeps for
retention (server/retention_sweeper.py): the threads runs ended on get their expiry within seconds.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any, Self

from nexa_research.errors import NexaError
from nexa_research.providers.provider_set import Providers
from nexa_research.runtime import ResearchRuntime
from nexa_research.server.access.api_keys import KeyStore
from nexa_research.server.access.quota import Quotas
from nexa_research.server.access.settings import AccessSettings
from nexa_research.server.event_log import EventLog
from nexa_research.server.job_queue import make_broker
from nexa_research.server.records import RecordStore
from nexa_research.server.retention_sweeper import RetentionSweeper
from nexa_research.server.settings import ServerSettings


class ServerNeedsRedisError(NexaError):
    """The server keeps threads, runs, events and the queue in Redis; NEXA_CHECKPOINTER must be redis."""


class ServerContext:
    def __init__(
        self, providers: Providers | None = None, settings: ServerSettings | None = None,
        access: AccessSettings | None = None,
    ) -> None:
        self._providers = providers
        self.settings = settings or ServerSettings()
        self.access = access or AccessSettings()
        self.metrics: Any = None  # RunMetrics, set when metrics are on
        self._stack: AsyncExitStack | None = None

    async def __aenter__(self) -> Self:
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            self.runtime = await stack.enter_async_context(ResearchRuntime(self._providers))
            if self.runtime.redis_url is None:
                raise ServerNeedsRedisError(
                    "the server keeps its threads, runs and queue in Redis: unset NEXA_CHECKPOINTER=in_memory "
                    "(REDIS_URL, or the embedded Redis Stack when it is unset)"
                )
            self.redis_url = self.runtime.redis_url
            self.redis = self.settings.redis_client(self.redis_url)
            stack.push_async_callback(self.redis.aclose)
            self.store = RecordStore(self.redis)
            self.keys = KeyStore(self.redis)
            self.quotas = Quotas(self.redis)
            self.log = EventLog(self.redis, self.settings.event_retention_seconds)
            self.broker = make_broker(self.redis_url)
            await self.broker.startup()
            stack.push_async_callback(self.broker.shutdown)
            if self.runtime.retention is not None:
                sweeper = RetentionSweeper(self.redis, self.store, self.runtime.retention,
                                           self.settings.retention_sweep_seconds)
                await stack.enter_async_context(sweeper.running())
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def thread_record(self, thread_id: str, owner: str | None) -> dict[str, Any] | None:
        """The thread's record if `owner` (an API key id; None with auth off) may see it, else None (a 404).

        With auth off, a thread only the checkpointer knows (a library or CLI run on this Redis) gets a record
        now, so every entry point's threads are visible; with keys, such a thread belongs to nobody.
        """
        record = await self.store.get_thread(thread_id)
        if record is not None:
            return record if record.get("owner") == owner else None
        if owner is None and thread_id:
            snapshot = await self.runtime.snapshot(thread_id)
            if snapshot is not None and snapshot.values:
                record, _ = await self.store.create_thread(thread_id, {})
        return record

    async def __aexit__(self, *exc: Any) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()
