"""Planner: topic -> report title and 3..7 sections, each with an outline and 2-4 key questions.

The output schema is built per run with the configured section bounds, so a server that enforces JSON schemas
(llama.cpp does, by grammar) cannot even produce a plan out of bounds. Code checks the bounds again for models
that do not enforce schemas, and asks again with the reason, at most `plan_attempts` times.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Overwrite
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from nexa_research.config import ResearchConfig
from nexa_research.errors import PlanningError, ProviderError, StructuredOutputError
from nexa_research.nodes.metering import StepMeter
from nexa_research.prompts import load_prompt
from nexa_research.providers.provider_set import Providers
from nexa_research.state import ResearchState, new_paragraph, validate_topic

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=200)]


class PlannedParagraph(BaseModel):
    """One section as the planner proposes it (and as a reviewer may edit it)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=120, description="Section title.")
    outline: str = Field(min_length=10, max_length=600, description="What the section covers, 1-2 sentences.")
    questions: list[Question] = Field(min_length=2, max_length=4, description="2-4 key questions research must answer.")


class PlanOutput(BaseModel):
    """The planner's answer: a title and the sections, in reading order."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=160, description="Report title.")
    paragraphs: list[PlannedParagraph] = Field(min_length=1, max_length=7, description="Sections in reading order.")


@cache
def plan_schema(min_sections: int, max_sections: int) -> type[PlanOutput]:
    """`PlanOutput` with the run's section bounds in the JSON schema itself."""
    return create_model(
        f"PlanOutput_{min_sections}_{max_sections}",
        __base__=PlanOutput,
        paragraphs=(
            list[PlannedParagraph],
            Field(min_length=min_sections, max_length=max_sections, description="Sections in reading order."),
        ),
    )


_NUMBERING = re.compile(r"^\s*(?:(?:section|part|chapter)\s*\d+\s*[:.)-]?|\d+\s*[:.)-])\s*", re.IGNORECASE)


def clean_title(title: str) -> str:
    """Titles get their numbers from the report; "Section 2: Design" becomes "Design"."""
    return _NUMBERING.sub("", title).strip() or title.strip()


def plan_problems(plan: PlanOutput, cfg: ResearchConfig) -> list[str]:
    """Why a plan is not acceptable for this run; empty when it is."""
    problems = []
    count = len(plan.paragraphs)
    if not cfg.min_sections <= count <= cfg.max_sections:
        problems.append(f"the plan has {count} sections; it must have between {cfg.min_sections} and {cfg.max_sections}")
    titles = [p.title.strip().lower() for p in plan.paragraphs]
    if len(set(titles)) != len(titles):
        problems.append("two sections have the same title; every section must cover something different")
    return problems


def make_plan_node(providers: Providers):
    """The `plan` node, bound to the providers the graph was built with."""

    async def plan(state: ResearchState, config: RunnableConfig) -> dict[str, Any]:
        topic = validate_topic(state.get("topic"))
        cfg = ResearchConfig.from_runnable_config(config)
        meter = StepMeter("plan")
        models = await providers.arole_models("planner", cfg)
        messages = load_prompt("planner").messages(
            topic=topic, min_sections=cfg.min_sections, max_sections=cfg.max_sections, language=cfg.language
        )
        schema = plan_schema(cfg.min_sections, cfg.max_sections)
        reasons: list[str] = []
        for _ in range(cfg.plan_attempts):
            try:
                answer = await models.structured(schema, messages)
            except ProviderError as exc:
                if not isinstance(exc.__cause__, StructuredOutputError):
                    raise
                reasons.append(str(exc.__cause__))
                messages = [*messages, HumanMessage(f"That answer was rejected: {exc.__cause__}. Write the whole plan again.")]
                continue
            meter.add_call("planner", answer.model, answer.message)
            result: PlanOutput = answer.parsed
            problems = plan_problems(result, cfg)
            if not problems:
                paragraphs = [
                    new_paragraph(i, clean_title(p.title), p.outline, p.questions) for i, p in enumerate(result.paragraphs)
                ]
                return {
                    "topic": topic,
                    "title": result.title,
                    "config": cfg.as_configurable(),
                    "paragraphs": Overwrite(paragraphs),
                    "steps": meter.record(),
                }
            reasons.append("; ".join(problems))
            messages = [
                *messages,
                AIMessage(result.model_dump_json()),
                HumanMessage(f"That plan is rejected: {'; '.join(problems)}. Write the whole plan again."),
            ]
        raise PlanningError(f"no acceptable plan for {topic!r} after {cfg.plan_attempts} attempts: {' | '.join(reasons)}")

    return plan
