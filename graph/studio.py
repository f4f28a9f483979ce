"""The graph LangGraph Studio and `langgraph dev` load (see langgraph.json): a factory, entered per request.

The LangGraph server brings its own checkpointer, so the runtime opens none; everything else a run needs
(providers, the report and search caches, research memory, the embedded services) comes from a
`ResearchRuntime`, exactly as for `aresearch`, the CLI and LangServe. Providers are made once per process
(opening a knowledge base or loading an embedding model is expensive); the runtime releases their clients
on the request's event loop when the request ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from nexa_research.providers.provider_set import ConfiguredProviders
from nexa_research.runtime import ResearchRuntime


@cache
def _process_providers() -> ConfiguredProviders:
    return ConfiguredProviders()


@asynccontextmanager
async def graph(config: RunnableConfig) -> AsyncIterator[CompiledStateGraph]:
    """The research graph of a runtime opened for this request (no checkpointer: the server's is used)."""
    async with ResearchRuntime(_process_providers(), external_checkpointer=True) as runtime:
        yield runtime.graph
