"""Planner: topic -> report title and 3..7 sections, each with an outline and 2-4 key questions.

The topic is surveyed first (nodes/survey.py) and the planner is shown the on-topic articles found, so it plans
what the corpus can support. Plans are checked in code (nodes/checks/plan.py: generic, duplicate or unsupported
sections) and re-planned with the reasons; the good sections of every attempt are pooled, and a pool with enough of
them is the plan. If none is, the pool is topped up from the articles found, then from the articles that name the
subject (nodes/checks/subject.py keeps neighbours of the same kind out of both). A model that answers the feedback with the same plan is not asked a third time.

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
from nexa_research.kernel.words import name_text
from nexa_research.nodes.accounting.metering import StepMeter
from nexa_research.nodes.checks.page_groups import heading_groups, in_page_order
from nexa_research.nodes.checks.plan import (
    PlannedSection,
    SupportCheck,
    as_heading,
    fallback_sections,
    plan_problems,
    pooled_sections,
    report_title,
    section_title,
    with_subject,
)
from nexa_research.nodes.checks.relevance import gate_sources, section_query, section_text
from nexa_research.nodes.checks.topic_parts import topic_parts
from nexa_research.nodes.progress import emit
from nexa_research.nodes.search import search_with_retries
from nexa_research.nodes.survey import Survey, survey
from nexa_research.nodes.text.fragments import passage_sentences
from nexa_research.prompts import load_prompt
from nexa_research.providers.documents.model import HEADING_SEPARATOR
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.relevance import embedded_text
from nexa_research.state import ResearchState, Source, new_paragraph, validate_topic

logger = logging.getLogger(__name__)
SECTION_MARGIN = 0.02  # a near tie goes to the subject; see _support_check

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


_NUMBERING = re.compile(
    r"^\s*(?:(?:sub)?(?:section|part|chapter)\s*[\d.]+\s*[:.)-]?|\d+(?:\.\d+)+\s*[:.)-]?|\d+\s*[:.)-])\s*", re.IGNORECASE
)


def clean_title(title: str) -> str:
    """Titles get their numbers from the report; "Section 2: Design" becomes "Design". A model that copies a
    document's title path ("Interfacing Extensions to Indexes › Index Methods and Operator Classes") gets its last
    heading, as a fallback section does (`section_title`)."""
    return section_title(_NUMBERING.sub("", title).strip() or title.strip())


def completed_title(title: str, articles: list[Source]) -> str:
    """A title the model cut off inside a word ("Backing Up the D", its outline on the base backup's data
    directory) is the heading of the surveyed article it begins ("Backing Up the Data Directory"). Only a last word
    that no surveyed article has as a word is taken as cut: "SQL Dump" stays, not "SQL Dumps"."""
    cut = title.strip()
    last = cut.rsplit(" ", 1)[-1].casefold()
    if not last or any(last in name_text(f"{a['title']} {a['text']}").split() for a in articles):
        return title
    for article in articles:
        heading = section_title(article["title"])
        if len(heading) > len(cut) and heading.casefold().startswith(cut.casefold()) and heading[len(cut)].isalpha():
            return heading
    return title


def article_list(articles: list[Source]) -> str:
    """The corpus survey as the planner sees it: one line per article, its title and opening words.

    A user's document is cut at its headings ("Index Types › B-Tree"), and the survey finds a page and its
    subsections by score, scattered through the list; the subsections of one page are listed together under it
    (nodes/checks/page_groups.py), so the page's own structure is what the planner sees. Titles without a
    heading path (an encyclopedia's articles) are listed as found.
    """
    if not articles:
        return "(the search found no article on this topic; plan from the topic itself)"
    lines = []
    shown: str | None = None
    for parent, members in heading_groups(articles):
        if parent is not None and parent != shown:  # a page the survey found itself heads its subsections
            lines.append(f"- {parent}:")
        for a in members:
            first = (passage_sentences(a["text"]) or [a["text"]])[0]
            title = a["title"] if parent is None else a["title"][len(parent) + len(HEADING_SEPARATOR):]
            lines.append(f"{'  ' if parent is not None else ''}- {title}: {first[:160]}")
            shown = a["title"] if parent is None else None
    return "\n".join(lines)


def _support_check(providers: Providers, surveyed: Survey, topic: str, cfg: ResearchConfig):
    """A section is supported when a source about the subject is the closest to it (or within a near tie) among
    those its search finds on the topic and on the section. On the offline corpus a section made from a neighbour
    is closest to that neighbour by 0.03-0.17 ("Photocopier" 0.71 against Printing press 0.65; "Congolian
    rainforests" 0.84 against Amazon rainforest 0.67; "Soul music" 0.74 against Jazz 0.69), while sections that
    are parts of the topic are closest to its own articles ("Wildlife of the Amazon rainforest", "Bebop and Miles
    Davis", "Unemployment in the 1930s")."""
    relevance, backend, subject, topic_cut = providers.relevance(), surveyed.backend, surveyed.subject, surveyed.topic_cut
    if backend is None or relevance is None:
        return None

    async def support(section: PlannedSection) -> bool:
        paragraph = new_paragraph(0, section.title, section.outline, section.questions)
        try:
            found, _ = await search_with_retries(backend, section_query(topic, paragraph), cfg)
        except ProviderError as exc:
            logger.warning("planner: support check for %r failed (%s); assuming it is covered", section.title, exc)
            return True
        kept = gate_sources(relevance, topic, paragraph, found, min_relevance=cfg.min_relevance, topic_cut=topic_cut).kept
        if not kept or subject is None:
            return bool(kept)
        # what the section would be written from: the sources closest to the section, not to the topic
        closeness = relevance.similarity([section_text(paragraph)], [embedded_text(s["title"], s["text"]) for s in kept])[0]
        on_subject = [float(c) for s, c in zip(kept, closeness, strict=True) if subject.covers(s)]
        return bool(on_subject) and max(on_subject) >= float(closeness.max()) - SECTION_MARGIN

    return support


def make_plan_node(providers: Providers):
    """The `plan` node, bound to the providers the graph was built with."""

    async def plan(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        topic = validate_topic(state.get("topic"))
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        meter = StepMeter("plan")
        surveyed = await survey(providers, topic, cfg)
        articles = surveyed.articles
        logger.debug("planner: the survey of %r found %d articles about the subject: %s",
                    topic, len(articles), ", ".join(a["title"] for a in articles) or "none")
        support = _support_check(providers, surveyed, topic, cfg)
        relevance = providers.relevance()
        models = await providers.arole_models("planner", cfg)
        messages = load_prompt("planner").messages(
            topic=topic, min_sections=cfg.min_sections, max_sections=cfg.max_sections, language=cfg.language,
            articles=article_list(articles),
        )
        schema = plan_schema(cfg.min_sections, cfg.max_sections)
        reasons: list[str] = []
        title = topic
        pooled: list[PlannedSection] = []
        spare: list[PlannedSection] = []
        answered: set[tuple[str, ...]] = set()
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
                with_subject(PlannedSection(
                    as_heading(completed_title(clean_title(p.title), articles), topic), p.outline, list(p.questions)
                ), topic)
                for p in result.paragraphs
            ]
            problems, good = await plan_problems(
                sections, relevance, cfg.min_sections, cfg.max_sections, support, topic=topic
            )
            if not problems:
                return _planned(topic, title, sections, cfg, meter, surveyed)
            pooled = pooled_sections(pooled, [sections[i] for i in good], relevance, topic)
            if len(pooled) >= cfg.min_sections:
                logger.info("planner: plan for %r pooled from the good sections of %d attempts (%s)",
                            topic, len(reasons) + 1, "; ".join(problems))
                return _planned(topic, title, pooled[: cfg.max_sections], cfg, meter, surveyed)
            spare += [s for i, s in enumerate(sections) if i not in good]
            wanted = max(wanted, min(len(sections), cfg.max_sections))
            reasons.append("; ".join(problems))
            asked = tuple(s.title for s in sections)
            if asked in answered:
                break  # the same plan again (a small model at temperature 0 ignores the feedback): asking more is waste
            answered.add(asked)
            messages = [
                *messages,
                AIMessage(result.model_dump_json()),
                HumanMessage(f"That plan is rejected: {'; '.join(problems)}. Write the whole plan again."),
            ]
        parts = await _part_sections(topic, support) if len(pooled) < wanted else []
        sections = fallback_sections(
            pooled, [*in_page_order(articles), *surveyed.linked], topic, wanted, spare, relevance, parts
        )
        if sections:
            # Fewer sections than asked beats no report: the corpus supports no more, and padding is not research.
            logger.warning("planner: no acceptable plan for %r (%s); %d sections built from the corpus",
                           topic, " | ".join(reasons), len(sections))
            return _planned(topic, title, sections, cfg, meter, surveyed)
        raise PlanningError(f"no acceptable plan for {topic!r} after {cfg.plan_attempts} attempts: {' | '.join(reasons)}")

    return plan


async def _part_sections(topic: str, support: SupportCheck | None) -> list[PlannedSection]:
    """The parts the topic names itself ("Spread of the printing press"), as sections the corpus supports."""
    out = []
    for part in topic_parts(topic):
        lower = part[:1].lower() + part[1:]
        section = PlannedSection(
            part,
            f"What the sources say about {lower}.",  # the subject only, as for article sections (fallback_sections)
            [f"What is known about {lower}?", f"What were the main causes and effects of {lower}?"],
        )
        if support is None or await support(section):
            out.append(section)
    return out


def _planned(
    topic: str, title: str, sections: list[PlannedSection], cfg: ResearchConfig, meter: StepMeter, surveyed: Survey
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
        "topic_cut": surveyed.topic_cut,
        "subject": surveyed.subject.as_dict() if surveyed.subject is not None else None,
    }
