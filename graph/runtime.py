"""`ResearchRuntime`: the one owner of everything a run needs, opened and closed as an async context manager.

A run needs a checkpointer (Redis by default), the Redis cache, the providers (chat models, search, the
knowledge base) and, on a machine without REDIS_URL, the embedded Redis Stack. Async Redis and HTTP clients
belong to the event loop that opened them, so they are opened when the runtime is entered (inside the caller's
loop) and closed when it exits; nothing is left for a caller to remember to close. The library API, the CLI,
the LangServe app (for its lifetime) and the Studio graph factory all enter one, so a run behaves the same
through every entry point: same caches, same memory, same checkpoints, same durability.

The graph is compiled once per runtime, for its providers and checkpointer. With the Redis checkpointer it opens,
the runtime also applies retention (nexa_research/retention.py): a thread its `run` finished gets its expiry.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any, Self, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from nexa_research.builder import build_graph
from nexa_research.errors import ResearchInputError
from nexa_research.providers.provider_set import ConfiguredProviders, Providers
from nexa_research.providers.settings import ProviderSettings
from nexa_research.tracing import configure_tracing

# Threads checkpointed in memory live as long as this process: enough for plan review in a notebook or script.
PROCESS_MEMORY_SAVER = InMemorySaver()


class ResearchRuntime:
    """Opens the checkpointer, cache, providers and embedded services for runs; closes them on exit.

    `providers`: what nodes call (default: `ConfiguredProviders` from the environment, closed with the runtime;
    providers handed in are the caller's to close, but their clients on this loop are released).
    `checkpointer`: a caller's own saver wins; `external_checkpointer=True` means the host brings one (the
    LangGraph server behind Studio), so none is opened here. `use_cache=False` opens no cache.
    """

    def __init__(
        self,
        providers: Providers | None = None,
        *,
        settings: ProviderSettings | None = None,
        checkpointer: BaseCheckpointSaver | None = None,
        use_cache: bool = True,
        external_checkpointer: bool = False,
    ) -> None:
        self.settings = settings or ProviderSettings.load()
        self._given_providers = providers
        self._given_checkpointer = checkpointer
        self._use_cache = use_cache
        self._external = external_checkpointer
        self._stack: AsyncExitStack | None = None
        self.providers: Providers | None = None
        self.checkpointer: BaseCheckpointSaver | None = None
        self.cache: Any = None  # a RedisCache, or None when caching is off or Redis is not used
        self.retention: Any = None  # a ThreadRetention on the Redis checkpointer this runtime opened, else None
        self.redis_url: str | None = None
        self._graph: CompiledStateGraph | None = None

    @property
    def graph(self) -> CompiledStateGraph:
        if self._graph is None:
            raise RuntimeError("ResearchRuntime is not open: use `async with ResearchRuntime() as runtime:`")
        return self._graph

    async def __aenter__(self) -> Self:
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            await self._open(stack)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(self, *exc: object) -> None:
        stack, self._stack, self._graph = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def _open(self, stack: AsyncExitStack) -> None:
        configure_tracing()  # LANGSMITH_TRACING without a key: switched off, so nothing is sent and nothing fails
        settings = self.settings
        base = self._given_providers or ConfiguredProviders(settings)
        if self._given_providers is None:
            stack.callback(base.close)
        stack.push_async_callback(base.aclose)
        wants_redis = self._given_checkpointer is None and not self._external and settings.checkpointer == "redis"
        wants_cache = self._use_cache and settings.cache and (wants_redis or settings.redis_url is not None)
        if wants_redis or wants_cache:
            from nexa_research.providers.services.redis_server import ensure_redis_url

            self.redis_url = await asyncio.to_thread(ensure_redis_url, settings)
        saver: BaseCheckpointSaver | None = self._given_checkpointer
        if saver is None and wants_redis:
            from nexa_research.providers.checkpointer import open_async_checkpointer

            saver = await stack.enter_async_context(open_async_checkpointer(self.redis_url))  # type: ignore[arg-type]
            self.retention = self._retention(saver)
        elif saver is None and not self._external and settings.checkpointer == "in_memory":
            saver = PROCESS_MEMORY_SAVER
        providers = base
        if wants_cache:
            from nexa_research.providers.cached_providers import CachingProviders
            from nexa_research.providers.redis_cache import RedisCache

            self.cache = RedisCache(self.redis_url, max_ttl_seconds=settings.retention_seconds or None)  # type: ignore[arg-type]
            stack.push_async_callback(self.cache.aclose)
            providers = CachingProviders(base, self.cache)
        self.providers, self.checkpointer = providers, saver
        self._graph = build_graph(providers, saver)

    def _retention(self, saver: Any) -> Any:
        """Retention on the saver this runtime opened: told of every root checkpoint it writes."""
        from nexa_research.retention import ThreadRetention

        retention = ThreadRetention(saver.client, saver, self.settings.retention_seconds, self.snapshot)
        saver.retention = retention
        return retention

    async def run(self, payload: Any, run_config: dict[str, Any], on_update: Any = None) -> dict[str, Any]:
        """Run the graph on `payload` (input, or a `Command`), every step checkpointed before the next starts;
        then settle the thread's retention (a run that raised leaves its thread unfinished, so kept).

        `on_update(namespace, chunk)` receives every node's update as it happens (subgraph namespaces included).
        """
        result = await self._run(payload, run_config, on_update)
        thread_id = (run_config.get("configurable") or {}).get("thread_id")
        if self.retention is not None and thread_id is not None:
            await self.retention.settle_after_run(str(thread_id))
        return result

    async def _run(self, payload: Any, run_config: dict[str, Any], on_update: Any) -> dict[str, Any]:
        graph = self.graph
        # "sync" durability with no checkpointer trips LangGraph 1.2 (AttributeError _put_checkpoint_fut)
        durability: dict[str, Any] = {"durability": "sync"} if graph.checkpointer is not None else {}
        if on_update is None:
            return await graph.ainvoke(payload, cast(RunnableConfig, run_config), **durability)
        result: dict[str, Any] = {}
        interrupts: list[Any] = []
        async for namespace, mode, chunk in graph.astream(
            payload, cast(RunnableConfig, run_config), stream_mode=["updates", "values"], subgraphs=True, **durability
        ):
            if mode == "updates":
                on_update(namespace, chunk)
                interrupts.extend(chunk.get("__interrupt__", ()))
            elif not namespace:
                result = chunk
        return {**result, "__interrupt__": interrupts}

    async def snapshot(self, thread_id: str, checkpoint_id: str | None = None) -> Any:
        """The thread's state (at `checkpoint_id` when given); None without a checkpointer."""
        if self.checkpointer is None:
            return None
        if not thread_id:
            raise ResearchInputError("thread_id: must not be empty")
        lookup: RunnableConfig = {"configurable": {"thread_id": thread_id, **({"checkpoint_id": checkpoint_id} if checkpoint_id else {})}}
        return await self.graph.aget_state(lookup)
