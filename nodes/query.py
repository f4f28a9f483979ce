"""generate_query: the search queries of a paragraph's next round.

The first round asks the query writer; later rounds use the query the reflection proposed (no extra model call)
and the queries found in code beside it (unanswered questions, names the sources mention: nodes/checks/coverage).
Queries already tried are left out; a round with nothing new to search ends the loop.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import ProviderError
from nexa_research.nodes.accounting.metering import StepMeter
from nexa_research.nodes.checks.coverage import query_key
from nexa_research.nodes.progress import section_progress
from nexa_research.nodes.text.prompt_inputs import bullet_list, paragraph_fields
from nexa_research.prompts import load_prompt
from nexa_research.providers.provider_set import Providers
from nexa_research.state import BranchState, stop_research


class QueryOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=2, max_length=200, description="A short search query, 3-10 words.")


def first_question(query: str) -> str:
    """Small models paste several questions into one query; the first one searches better than all of them."""
    query = " ".join(query.split())
    if query.count("?") > 1:
        query = query.split("?", 1)[0] + "?"
    return query


def make_generate_query_node(providers: Providers):
    async def generate_query(state: BranchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        paragraph = state["paragraph"]
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        meter = StepMeter("generate_query", paragraph["index"])
        query = (state.get("pending_query") or "").strip()
        if not query and not state.get("pending_queries"):
            reflection = state.get("reflection")
            gaps = reflection["gaps"] if reflection else []
            messages = load_prompt("query_writer").messages(
                topic=state["topic"], gaps=bullet_list(gaps), **paragraph_fields(paragraph)
            )
            try:
                answer = await (await providers.arole_models("query_writer", cfg)).structured(QueryOutput, messages)
            except ProviderError as exc:
                return {"paragraph": stop_research(paragraph, f"query writer failed: {exc}"), "steps": meter.record()}
            meter.add_call("query_writer", answer.model, answer.message)
            query = first_question(answer.parsed.query)
        tried = {query_key(q) for q in paragraph["queries"]}
        round_queries: list[str] = []
        for candidate in [query, *(state.get("pending_queries") or [])]:
            key = query_key(candidate)
            if key and key not in tried:
                tried.add(key)
                round_queries.append(" ".join(candidate.split()))
        if not round_queries:
            stopped = {**paragraph, "stop_reason": "repeated_query"}
            return {"paragraph": stopped, "pending_query": None, "pending_queries": [], "steps": meter.record()}
        updated = {
            **paragraph,
            "queries": [*paragraph["queries"], *round_queries],
            "rounds": [*(paragraph.get("rounds") or []), {"queries": round_queries, "added": 0}],
            "iterations": paragraph["iterations"] + 1,
            "status": "researching",
        }
        section_progress(paragraph, "querying", query=round_queries[0], queries=round_queries,
                         iteration=updated["iterations"])
        return {"paragraph": updated, "pending_query": None, "pending_queries": [], "steps": meter.record()}

    return generate_query

