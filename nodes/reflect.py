"""reflect: are the sources enough for this section? Structured {sufficient, gaps, next_query}.

Code decides by coverage (nodes/checks/coverage.py): a section is sufficient when it has enough on-topic sources
and a gathered sentence for every key question, whatever a model thinks. When a question is unanswered the
model is told which, and asked for the gaps and the next query; the next round runs that query beside the ones
found in code (the unanswered questions, names the sources mention). A section short only of sources searches
again without a model call. With no scorer at all, the model's verdict is all there is. The loop cap is
enforced in code (search stops at `max_iterations`), never left to the model.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import ProviderError
from nexa_research.nodes.accounting.metering import StepMeter
from nexa_research.nodes.checks.coverage import Coverage, coverage_text, section_coverage
from nexa_research.nodes.progress import section_progress
from nexa_research.nodes.query import first_question
from nexa_research.nodes.text.prompt_inputs import numbered_sources, paragraph_fields
from nexa_research.prompts import load_prompt
from nexa_research.providers.provider_set import Providers
from nexa_research.state import BranchState, Reflection

Gap = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]


class ReflectionOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sufficient: bool = Field(description="True when the sources answer most key questions.")
    gaps: list[Gap] = Field(default_factory=list, max_length=3, description="What is still missing.")
    next_query: str = Field(default="", max_length=200, description="The next search query, or empty if sufficient.")


def make_reflect_node(providers: Providers):
    async def reflect(state: BranchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        paragraph = state["paragraph"]
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        meter = StepMeter("reflect", paragraph["index"])
        relevance = providers.relevance()
        coverage: Coverage | None = None
        if relevance is not None:
            coverage = await asyncio.to_thread(section_coverage, relevance, state["topic"], paragraph)
        if coverage is not None and (coverage.sufficient or not coverage.unanswered):
            # enough, or short only of sources: no question for a model to answer
            sufficient = coverage.sufficient
            reflection = Reflection(sufficient=sufficient, gaps=coverage.gaps(), next_query="")
        else:
            sources_text, _ = numbered_sources(paragraph["research"], cfg.context_token_budget, per_source_chars=500)
            questions = coverage_text(coverage.questions) if coverage else paragraph_fields(paragraph)["questions"]
            messages = load_prompt("reflection").messages(
                topic=state["topic"], sources=sources_text, coverage=questions, **paragraph_fields(paragraph)
            )
            try:
                answer = await (await providers.arole_models("reflection", cfg)).structured(ReflectionOutput, messages)
            except ProviderError as exc:
                stopped = {**paragraph, "stop_reason": f"reflection failed: {exc}"}
                return {"paragraph": stopped, "steps": meter.record()}
            meter.add_call("reflection", answer.model, answer.message)
            result: ReflectionOutput = answer.parsed
            # with a scorer, "sufficient" is the coverage's verdict; the model names gaps and a query
            sufficient = result.sufficient if coverage is None else coverage.sufficient
            gaps = list(result.gaps) if coverage is None else [*coverage.gaps(), *result.gaps]
            reflection = Reflection(sufficient=sufficient, gaps=gaps[:6], next_query=first_question(result.next_query.strip()))
        queries = [] if coverage is None else coverage.next_queries(reflection["next_query"])
        if reflection["next_query"] and queries:
            queries = queries[1:]  # the model's query travels as pending_query
        updated = dict(paragraph)
        if sufficient:
            updated["stop_reason"] = "sufficient"
        elif paragraph["iterations"] >= cfg.max_iterations:
            updated["stop_reason"] = "iteration_cap"
        elif not reflection["next_query"] and not queries:
            updated["stop_reason"] = "nothing_left_to_search"
        section_progress(paragraph, "reflected", sufficient=sufficient, iteration=paragraph["iterations"],
                         missing=reflection["gaps"], next_queries=[q for q in [reflection["next_query"], *queries] if q])
        return {
            "paragraph": updated,
            "reflection": reflection,
            "pending_query": reflection["next_query"] or None,
            "pending_queries": [] if sufficient else queries,
            "steps": meter.record(),
        }

    return reflect
