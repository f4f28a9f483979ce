"""Planner: topic -> report title and 3..7 sections, each with an outline and 2-4 key questions.

The topic is searched first and the planner is shown the on-topic articles found, so it plans what the corpus
can support. Plans are checked in code (nodes/checks/plan.py: generic, duplicate or unsupported sections) and
re-planned with the reasons; if no attempt passes, the sections that did pass are kept and topped up from the
articles found.

The output schema is built per run with the configured section bounds, so a server that enforces JSON schemas
(llama.cpp does, by grammar) cannot even produce a plan out of bounds. Code checks the bounds again for models
that do not enforce schemas, and asks again with the reason, at most `plan_attempts` times.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Annotated, Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from langgraph.types import Overwrite
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import PlanningError, ProviderError, StructuredOutputError
from nexa_research.nodes.text.fragments import passage_sentences
from nexa_research.nodes.accounting.metering import StepMeter
from nexa_research.nodes.checks.plan import (
    PlannedSection,
    fallback_sections,
    plan_problems,
    report_title,
    with_subject,
)
from nexa_research.nodes.checks.relevance import gate_sources, section_query, topic_cutoff
from nexa_research.nodes.progress import emit
from nexa_research.nodes.search import search_with_retries
from nexa_research.prompts import load_prompt
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.search.protocol import SearchBackend
from nexa_research.state import ResearchState, Source, new_paragraph, validate_topic
from nexa_research.urls import normalize_url

logger = logging.getLogger(__name__)
SURVEY_RESULTS = 15

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


def article_list(articles: list[Source]) -> str:
    """The corpus survey as the planner sees it: one line per article, its title and opening words."""
    if not articles:
        return "(the search found no article on this topic; plan from the topic itself)"
    lines = []
    for a in articles:
        first = (passage_sentences(a["text"]) or [a["text"]])[0]
        lines.append(f"- {a['title']}: {first[:160]}")
    return "\n".join(lines)


async def survey(
    providers: Providers, topic: str, cfg: ResearchConfig
) -> tuple[SearchBackend | None, list[Source], float | None]:
    """Search the topic before planning: the on-topic articles, one per URL, best first, and the run's on-topic
    cut-off (`topic_cutoff`: held close to the best article found).

    A failing backend is not fatal here (the research branches report it per section); planning goes on blind.
    """
    relevance = providers.relevance()
    if relevance is None:
        return None, [], None
    try:
        backend = await providers.asearch_backend(cfg)
        found, _ = await search_with_retries(backend, topic, cfg.model_copy(update={"search_results": SURVEY_RESULTS}))
    except ProviderError as exc:
        logger.warning("planner: the topic survey failed (%s); planning without it", exc)
        return None, [], None
    scores = relevance.similarity([topic], [f"{s['title']}. {s['text']}" for s in found])[0] if found else []
    threshold = topic_cutoff(relevance, float(max(scores)) if found else None, cfg.min_relevance)
    by_url: dict[str, Source] = {}
    for source, score in sorted(zip(found, scores, strict=True), key=lambda pair: -float(pair[1])):
        if float(score) >= threshold:
            by_url.setdefault(normalize_url(source["url"]), source)
    return backend, list(by_url.values()), threshold


def _support_check(
    providers: Providers, backend: SearchBackend | None, topic: str, cfg: ResearchConfig, topic_cut: float | None
):
    relevance = providers.relevance()
    if backend is None or relevance is None:
        return None

    async def support(section: PlannedSection) -> bool:
        paragraph = new_paragraph(0, section.title, section.outline, section.questions)
        try:
            found, _ = await search_with_retries(backend, section_query(topic, paragraph), cfg)
        except ProviderError as exc:
            logger.warning("planner: support check for %r failed (%s); assuming it is covered", section.title, exc)
            return True
        gate = gate_sources(
            relevance, topic, paragraph, found, limit=1, min_relevance=cfg.min_relevance, topic_cut=topic_cut
        )
        return bool(gate.kept)

    return support


def make_plan_node(providers: Providers):
    """The `plan` node, bound to the providers the graph was built with."""

    async def plan(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        topic = validate_topic(state.get("topic"))
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        meter = StepMeter("plan")
        backend, articles, topic_cut = await survey(providers, topic, cfg)
        support = _support_check(providers, backend, topic, cfg, topic_cut)
        relevance = providers.relevance()
        models = await providers.arole_models("planner", cfg)
        messages = load_prompt("planner").messages(
            topic=topic, min_sections=cfg.min_sections, max_sections=cfg.max_sections, language=cfg.language,
            articles=article_list(articles),
        )
        schema = plan_schema(cfg.min_sections, cfg.max_sections)
        reasons: list[str] = []
        title = topic
        best: list[PlannedSection] = []
        spare: list[PlannedSection] = []
        wanted = cfg.min_sections
        for _ in range(cfg.plan_attempts):
            try:
                answer = await models.structured(schema, messages)
            except StructuredOutputError as exc:
                reasons.append(exc.reason)
                messages = [*messages, HumanMessage(f"That answer was rejected: {exc.reason}. Write the whole plan again.")]
                continue
            meter.add_call("planner", answer.model, answer.message)
            result: PlanOutput = answer.parsed
            title = result.title
            sections = [
                with_subject(PlannedSection(clean_title(p.title), p.outline, list(p.questions)), topic)
                for p in result.paragraphs
            ]
            problems, good = await plan_problems(
                sections, relevance, cfg.min_sections, cfg.max_sections, support, topic=topic
            )
            if not problems:
                return _planned(topic, title, sections, cfg, meter, topic_cut)
            if len(good) > len(best):
                best = [sections[i] for i in good][: cfg.max_sections]
            spare += [s for i, s in enumerate(sections) if i not in good]
            wanted = max(wanted, min(len(sections), cfg.max_sections))
            reasons.append("; ".join(problems))
            messages = [
                *messages,
                AIMessage(result.model_dump_json()),
                HumanMessage(f"That plan is rejected: {'; '.join(problems)}. Write the whole plan again."),
            ]
        sections = fallback_sections(best, articles, topic, wanted, spare)
        if sections:
            # Fewer sections than asked beats no report: the corpus supports no more, and padding is not research.
            logger.warning("planner: no acceptable plan for %r (%s); %d sections built from the corpus",
                           topic, " | ".join(reasons), len(sections))
            return _planned(topic, title, sections, cfg, meter, topic_cut)
        raise PlanningError(f"no acceptable plan for {topic!r} after {cfg.plan_attempts} attempts: {' | '.join(reasons)}")

    return plan


def _planned(
    topic: str, title: str, sections: list[PlannedSection], cfg: ResearchConfig, meter: StepMeter, topic_cut: float | None
) -> dict[str, Any]:
    paragraphs = [new_paragraph(i, s.title, s.outline, s.questions) for i, s in enumerate(sections)]
    title = report_title(title, topic, [s.title for s in sections])
    emit({"kind": "plan", "title": title, "sections": [s.title for s in sections]})
    return {
        "topic": topic,
        "title": title,
        "config": cfg.as_configurable(),
        "paragraphs": Overwrite(paragraphs),
        "steps": meter.record(),
        "topic_cut": topic_cut,
    }
