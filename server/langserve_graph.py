"""The research graph as LangServe serves it: the graph of the app's `ResearchRuntime`, run like the library runs it.

LangServe needs a runnable when routes are added, before the app's event loop (and so its Redis clients and
checkpointer) exists. `RuntimeGraph` is that runnable: its schemas come from a graph compiled up front, and each
call runs the graph of the runtime the app opened in its lifespan, with the same caches, memory, checkpointer
and "sync" durability as `aresearch`. A request without a `thread_id` in its configurable runs on a new thread.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.utils import ConfigurableFieldSpec
from langgraph.graph.state import CompiledStateGraph
from langgraph.warnings import LangGraphDeprecatedSinceV10
from pydantic import BaseModel

from nexa_research.runtime import ResearchRuntime


class RuntimeGraph(Runnable[dict[str, Any], dict[str, Any]]):
    """Delegates every call to `runtime().graph`; describes itself with `template`'s schemas."""

    def __init__(self, runtime: Callable[[], ResearchRuntime], template: CompiledStateGraph) -> None:
        self._runtime = runtime
        self._template = template
        self.name = template.get_name()

    @property
    def InputType(self) -> Any:  # noqa: N802 - the Runnable API's name
        return self._template.InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return self._template.OutputType

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        return self._template.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        return self._template.get_output_schema(config)

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        return self._template.config_specs

    def config_schema(self, *, include: Any = None) -> type[BaseModel]:
        # LangServe validates `configurable` with this; LangGraph marks it deprecated in favour of context schemas,
        # which LangServe does not read yet.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)
            return self._template.config_schema(include=include)

    def _call(self, config: RunnableConfig | None) -> tuple[CompiledStateGraph, RunnableConfig, dict[str, Any]]:
        graph = self._runtime().graph
        config = dict(config or {})
        configurable = dict(config.get("configurable") or {})
        if graph.checkpointer is not None:
            configurable.setdefault("thread_id", uuid.uuid4().hex)
        config["configurable"] = configurable
        durability = {"durability": "sync"} if graph.checkpointer is not None else {}
        return graph, config, durability  # type: ignore[return-value]

    def invoke(self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError("the research graph runs on the server's event loop: use ainvoke")

    async def ainvoke(self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        graph, config, durability = self._call(config)
        return await graph.ainvoke(input, config, **durability, **kwargs)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        raise NotImplementedError("the research graph runs on the server's event loop: use astream")

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        graph, config, durability = self._call(config)
        async for chunk in graph.astream(input, config, **durability, **kwargs):
            yield chunk

    async def atransform(self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any):
        final: Any = None
        async for item in input:
            final = item if final is None else final + item
        async for chunk in self.astream(final, config, **kwargs):
            yield chunk
