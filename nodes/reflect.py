"""reflect: are the sources enough for this section? Structured {sufficient, gaps, next_query}.

Code first measures how well the gathered sentences match each key question (the run's relevance scorer). When
every question has a matching sentence the section is sufficient without a model call; otherwise the model is
told which questions are covered and which are not, and asked for the next query. The loop cap is enforced in
code (search stops at `max_iterations`), never left to the model.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import ProviderError
from nexa_research.nodes.text.fragments import passage_sentences
from nexa_research.nodes.accounting.metering import StepMeter
from nexa_research.nodes.progress import section_progress
from nexa_research.nodes.text.prompt_inputs import numbered_sources, paragraph_fields
from nexa_research.prompts import load_prompt
from nexa_research.nodes.query import first_question
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.relevance import Relevance
from nexa_research.state import BranchState, Paragraph

Gap = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]


class ReflectionOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sufficient: bool = Field(description="True when the sources answer most key questions.")
    gaps: list[Gap] = Field(default_factory=list, max_length=3, description="What is still missing.")
    next_query: str = Field(default="", max_length=200, description="The next search query, or empty if sufficient.")


def question_coverage(relevance: Relevance, paragraph: Paragraph) -> list[tuple[str, bool]]:
    """Each key question, and whether some gathered sentence goes some way to answering it."""
    sentences = [s for source in paragraph["research"] for s in passage_sentences(source["text"])]
    questions = list(paragraph["questions"])
    if not sentences or not questions:
        return [(q, False) for q in questions]
    best = relevance.similarity(questions, sentences).max(axis=1)
    return [(q, float(score) >= relevance.thresholds.answers) for q, score in zip(questions, best, strict=True)]


def coverage_text(coverage: list[tuple[str, bool]]) -> str:
    return "\n".join(f"- {q} ({'answered' if ok else 'NOT answered yet'})" for q, ok in coverage)


def make_reflect_node(providers: Providers):
    async def reflect(state: BranchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        paragraph = state["paragraph"]
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        meter = StepMeter("reflect", paragraph["index"])
        relevance = providers.relevance()
        coverage = [] if relevance is None else await asyncio.to_thread(question_coverage, relevance, paragraph)
        if coverage and all(answered for _, answered in coverage):
            reflection = {"sufficient": True, "gaps": [], "next_query": ""}
            stopped = {**paragraph, "stop_reason": "sufficient"}
            section_progress(paragraph, "reflected", sufficient=True, iteration=paragraph["iterations"], missing=[])
            return {"paragraph": stopped, "reflection": reflection, "pending_query": None, "steps": meter.record()}
        sources_text, _ = numbered_sources(paragraph["research"], cfg.context_token_budget, per_source_chars=500)
        messages = load_prompt("reflection").messages(
            topic=state["topic"], sources=sources_text, coverage=coverage_text(coverage) or paragraph_fields(paragraph)["questions"],
            **paragraph_fields(paragraph)
        )
        try:
            answer = await (await providers.arole_models("reflection", cfg)).structured(ReflectionOutput, messages)
        except ProviderError as exc:
            stopped = {**paragraph, "stop_reason": f"reflection failed: {exc}"}
            return {"paragraph": stopped, "steps": meter.record()}
        meter.add_call("reflection", answer.model, answer.message)
        result: ReflectionOutput = answer.parsed
        next_query = result.next_query.strip()
        if not result.sufficient and not next_query and any(not answered for _, answered in coverage):
            next_query = first_question(next(q for q, answered in coverage if not answered))
        reflection = {"sufficient": result.sufficient, "gaps": list(result.gaps), "next_query": next_query}
        updated = dict(paragraph)
        if result.sufficient:
            updated["stop_reason"] = "sufficient"
        elif paragraph["iterations"] >= cfg.max_iterations:
            updated["stop_reason"] = "iteration_cap"
        section_progress(paragraph, "reflected", sufficient=result.sufficient, iteration=paragraph["iterations"],
                         missing=reflection["gaps"])
        return {
            "paragraph": updated,
            "reflection": reflection,
            "pending_query": reflection["next_query"] or None,
            "steps": meter.record(),
        }

    return reflect
