"""The graph: cached_report -> plan -> [review_plan] -> one research subgraph per paragraph (Send) -> collate
-> store_report. A cached report for the same topic and run identity ends the run at the first node.

Each paragraph is its own task in one superstep, so with a checkpointer a crash loses only the branches that had
not finished, and a resume re-runs nothing that finished. Nodes get their providers from the builder, so a
test swaps models or search by passing `StaticProviders` instead of patching.

The run is also a chat (nodes/chat_narration.py): the topic may arrive as the last human message, and the plan,
each finished section and the report are written to `messages` by the nodes that produce them.
"""

from __future__ import annotations

from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer, Send

from nexa_research.config import ResearchKnobs
from nexa_research.nodes.chat_messages import section_message
from nexa_research.nodes.chat_narration import (
    DEFAULT_ASK,
    hide_model_tokens,
    opening,
    with_plan_message,
    with_report_message,
)
from nexa_research.nodes.checks.relevance import section_text
from nexa_research.nodes.collator import make_collate_node
from nexa_research.nodes.plan_review import review_plan
from nexa_research.nodes.planner import make_plan_node
from nexa_research.nodes.query import make_generate_query_node
from nexa_research.nodes.reflect import make_reflect_node
from nexa_research.nodes.report_cache import make_cached_report_node, make_store_report_node
from nexa_research.nodes.search import make_search_node
from nexa_research.nodes.synthesizer import make_synthesize_node
from nexa_research.prompts import prompt_versions
from nexa_research.providers.provider_set import ConfiguredProviders, Providers
from nexa_research.state import BranchInput, BranchOutput, BranchState, ResearchInput, ResearchState
from nexa_research.tracing import tag_nodes


def _loop_ended(state: BranchState) -> bool:
    paragraph = state["paragraph"]
    return paragraph["status"] == "missing" or bool(paragraph.get("stop_reason"))


def route_after_query(state: BranchState) -> str:
    return "synthesize" if _loop_ended(state) else "search"


def route_after_search(state: BranchState) -> str:
    return "synthesize" if _loop_ended(state) else "reflect"


def route_after_reflect(state: BranchState) -> str:
    return "synthesize" if _loop_ended(state) else "generate_query"


def build_research_subgraph(providers: Providers) -> CompiledStateGraph:
    """generate_query -> search -> reflect, looping until sufficient, stuck or capped; then synthesize."""
    builder = StateGraph(BranchState, input_schema=BranchInput, output_schema=BranchOutput)
    builder.add_node("generate_query", make_generate_query_node(providers))
    builder.add_node("search", make_search_node(providers))
    builder.add_node("reflect", make_reflect_node(providers))
    builder.add_node("synthesize", make_synthesize_node(providers))
    builder.add_edge(START, "generate_query")
    builder.add_conditional_edges("generate_query", route_after_query, ["search", "synthesize"])
    builder.add_conditional_edges("search", route_after_search, ["reflect", "synthesize"])
    builder.add_conditional_edges("reflect", route_after_reflect, ["generate_query", "synthesize"])
    builder.add_edge("synthesize", END)
    return builder.compile(name="research_paragraph")


def research_paragraph_node(subgraph: CompiledStateGraph):
    """The subgraph called from a function node rather than added as a node itself.

    Under `astream_events` (LangGraph 1.2, used by the events stream mode and LangServe's /stream_events), a
    compiled subgraph added as a node hands back its whole state instead of its output schema, so the parallel
    branches all write `topic` and the step fails with InvalidUpdateError. Called this way it returns only
    `BranchOutput`; it still checkpoints and streams as a subgraph (its own namespace). The finished section is
    also said in the chat ("Section 2 done, 4 sources: ...").
    """

    async def research_paragraph(state: BranchInput, config: RunnableConfig) -> dict[str, Any]:
        output = cast(BranchOutput, await subgraph.ainvoke(state, config))
        ask = state.get("ask_id") or DEFAULT_ASK
        return {**output, "messages": [section_message(ask, p) for p in output["paragraphs"]]}

    return research_paragraph


def dispatch_paragraphs(state: ResearchState) -> list[Send] | str:
    """One branch per planned paragraph; none when the reviewer rejected the plan."""
    if state.get("plan_rejection") is not None:
        return END
    paragraphs = sorted(state["paragraphs"], key=lambda p: p["index"])
    return [
        Send(
            "research_paragraph",
            BranchInput(
                topic=state["topic"], paragraph=paragraph, topic_cut=state.get("topic_cut"), subject=state.get("subject"),
                ask_id=state.get("ask_id"), others=[section_text(p) for p in paragraphs if p is not paragraph],
            ),
        )
        for paragraph in paragraphs
    ]


def build_graph(
    providers: Providers | None = None,
    checkpointer: Checkpointer = None,
    *,
    name: str = "nexa_research",
) -> CompiledStateGraph:
    """Compile the research graph.

    `providers`: what nodes call (default: `ConfiguredProviders`, from per-run config and the environment).
    `checkpointer`: any LangGraph checkpointer (Redis, SQLite, memory); needed for plan review and resume.
    """
    providers = providers or ConfiguredProviders()
    prompt_versions()  # read the prompt files now, not from inside a running event loop
    builder = StateGraph(
        ResearchState, input_schema=ResearchInput, output_schema=ResearchState, context_schema=ResearchKnobs
    )
    builder.add_node("cached_report", opening(make_cached_report_node(providers)), destinations=("plan", END))
    builder.add_node("plan", with_plan_message(make_plan_node(providers)))
    # (state, config, runtime) nodes run, but add_node's overloads list only (state, config) and (state, runtime)
    builder.add_node("review_plan", review_plan)  # type: ignore[call-overload]
    builder.add_node("research_paragraph", research_paragraph_node(build_research_subgraph(providers)))
    builder.add_node("collate", with_report_message(make_collate_node(providers)))
    builder.add_node("store_report", make_store_report_node(providers))
    builder.add_edge(START, "cached_report")
    builder.add_edge("plan", "review_plan")
    builder.add_conditional_edges("review_plan", dispatch_paragraphs, ["research_paragraph", END])
    builder.add_edge("research_paragraph", "collate")
    builder.add_edge("collate", "store_report")
    builder.add_edge("store_report", END)
    return hide_model_tokens(tag_nodes(builder.compile(checkpointer=checkpointer, name=name)))
