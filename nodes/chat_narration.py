"""Nodes that also speak in the chat: wrappers that add a node's AI messages to the update it returns.

The research nodes stay about research; what a chat shows of their work is decided here, from their updates
(nodes/chat_messages.py writes the texts). The messages are part of the node's update, so they are checkpointed
with it, and LangGraph's `messages` stream mode (the SDK's "messages-tuple") sends them the moment the node ends.

The models nodes call internally (planner JSON, queries, reflections, section drafts) are not chat: their tokens
would flood a chat client with JSON. `hide_model_tokens` tags every node with LangGraph's no-stream tag, which the
tags of the model calls inside inherit; the `messages` stream then carries only the messages nodes write.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from langchain_core.runnables import RunnableConfig
from langgraph.constants import TAG_NOSTREAM
from langgraph.graph.state import CompiledStateGraph
from langgraph.pregel import Pregel
from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite

from nexa_research.config import ResearchKnobs
from nexa_research.nodes.chat_messages import begin_research, plan_message, report_message
from nexa_research.state import ResearchState

# A (state, config, runtime) node; wrappers hand back the type they were given, so `add_node` types them alike.
Node = TypeVar("Node", bound=Callable[..., Awaitable[Any]])
DEFAULT_ASK = "research"  # threads checkpointed before the chat existed have no ask_id


def ask_of(state: ResearchState) -> str:
    return state.get("ask_id") or DEFAULT_ASK


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Overwrite) else value


def opening(node: Node) -> Node:
    """The run's first node, preceded by `begin_research`: its update (topic, ask id, clean slate) is written with
    the node's own, and a cached report that ends the run at once is said in the chat like a written one."""

    @functools.wraps(node)
    async def run(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> Command:
        begun = begin_research(state)
        command = await node(cast(ResearchState, {**state, **{k: _plain(v) for k, v in begun.items()}}), config, runtime)
        update = {**begun, **(command.update or {})}
        if update.get("report"):
            update["messages"] = [*begun.get("messages", []), report_message(begun["ask_id"], update["report"])]
        return Command(update=update, goto=command.goto)

    return cast(Node, run)


def with_plan_message(node: Node) -> Node:
    """The planner's update plus "Planned N sections: 1. ..."."""

    @functools.wraps(node)
    async def run(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        update = await node(state, config, runtime)
        return {**update, "messages": [plan_message(ask_of(state), _plain(update["paragraphs"]))]}

    return cast(Node, run)


def with_report_message(node: Node) -> Node:
    """The collator's update plus the report, in Markdown, as one message."""

    @functools.wraps(node)
    async def run(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        update = await node(state, config, runtime)
        return {**update, "messages": [report_message(ask_of(state), update["report"])]}

    return cast(Node, run)


def hide_model_tokens(graph: CompiledStateGraph[Any, Any, Any, Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Tag every node of `graph` and of its subgraphs with the no-stream tag, in place (idempotent); the graph."""
    subgraphs = [cast("Pregel[Any, Any, Any, Any]", sub) for _, sub in graph.get_subgraphs(recurse=True)]
    for compiled in (graph, *subgraphs):
        for name, node in compiled.nodes.items():
            if not name.startswith("__") and TAG_NOSTREAM not in (node.tags or []):
                node.tags = [*(node.tags or []), TAG_NOSTREAM]
    return graph
