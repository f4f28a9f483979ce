"""collate: one report from all sections, with citations renumbered and the bibliography written in code.

The collator sees every section, so it writes the parts that tie them together (summary, introduction,
transitions, conclusion). Code does the rest deterministically: global [n] numbering in order of first
citation, one bibliography entry per normalised URL, removal of sentences repeated across sections, and
removal of any number the editor model cites that has no entry. If the editor model fails, the report is
still assembled, with plainer connecting text and a warning.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nexa_research.config import ResearchConfig
from nexa_research.nodes.citations import BibliographyBuilder
from nexa_research.nodes.metering import StepMeter
from nexa_research.nodes.prompt_inputs import CHARS_PER_TOKEN
from nexa_research.nodes.repetition import (
    as_plain_paragraphs,
    drop_repeated_sentences,
    split_sentences,
    without_questions,
)
from nexa_research.nodes.run_metadata import build_metadata
from nexa_research.prompts import load_prompt
from nexa_research.providers.chat_models import PROVIDER_FAILURES
from nexa_research.providers.provider_set import Providers
from nexa_research.report import BibliographyEntry, Report, ReportSection
from nexa_research.state import ResearchState

Transition = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class CollatorOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    executive_summary: str = Field(min_length=20, max_length=2000, description="3-6 sentences of main findings.")
    introduction: str = Field(min_length=20, max_length=2000, description="What the report covers and why.")
    transitions: list[Transition] = Field(default_factory=list, max_length=7, description="One per section, in order.")
    conclusion: str = Field(min_length=20, max_length=2000, description="What it all adds up to.")


def assemble_sections(state: ResearchState) -> tuple[list[ReportSection], BibliographyBuilder, int]:
    """Renumber citations globally and drop sentences already said in an earlier section."""
    bibliography = BibliographyBuilder()
    seen: set[str] = set()
    removed_total = 0
    sections: list[ReportSection] = []
    for p in sorted(state["paragraphs"], key=lambda p: p["index"]):
        content = ""
        if p["status"] == "done":
            content = bibliography.renumber_section(p["latest_summary"], p["research"])
            content, removed = drop_repeated_sentences(content, seen)
            removed_total += removed
        sections.append(
            ReportSection(
                index=p["index"],
                title=p["title"],
                content=content,
                status="done" if p["status"] == "done" else "missing",
                error=p.get("error") if p["status"] != "done" else None,
                iterations=p["iterations"],
                queries=list(p["queries"]),
                stop_reason=p.get("stop_reason"),
                citation_repairs=p.get("citation_repairs", 0),
                unsupported_removed=p.get("unsupported_removed", 0),
            )
        )
    return sections, bibliography, removed_total


def plain_narrative(topic: str, sections: list[ReportSection]) -> CollatorOutput:
    """Connecting text built without a model: first sentences of each section as the summary."""
    done = [s for s in sections if s.status == "done"]
    if not done:
        text = f"No section of the report on {topic!r} could be researched; see each section for the reason."
        return CollatorOutput(executive_summary=text, introduction=text, transitions=[], conclusion=text)
    firsts = [split_sentences(s.content)[0] for s in done if split_sentences(s.content)]
    titles = ", ".join(s.title for s in done)
    return CollatorOutput(
        executive_summary=" ".join(firsts[:6]) or f"This report covers {titles}.",
        introduction=f"This report on {topic} covers: {titles}.",
        transitions=[],
        conclusion=f"Together, these sections cover {titles}.",
    )


def _tidy(text: str) -> str:
    cleaned, _ = drop_repeated_sentences(without_questions(as_plain_paragraphs(text)))
    return cleaned


def tidy_narrative(narrative: CollatorOutput, topic: str, sections: list[ReportSection]) -> CollatorOutput:
    """The editor's text cleaned like sections (repeats, headings, questions); a part left empty is rebuilt plainly."""
    plain = plain_narrative(topic, sections)
    return CollatorOutput.model_construct(
        executive_summary=_tidy(narrative.executive_summary) or plain.executive_summary,
        introduction=_tidy(narrative.introduction) or plain.introduction,
        transitions=[_tidy(t) for t in narrative.transitions],
        conclusion=_tidy(narrative.conclusion) or plain.conclusion,
    )


def make_collate_node(providers: Providers):
    async def collate(state: ResearchState, config: RunnableConfig) -> dict[str, Any]:
        cfg = ResearchConfig.from_runnable_config(config)
        meter = StepMeter("collate")
        topic = state["topic"]
        title = state.get("title") or topic
        sections, bibliography, removed = assemble_sections(state)
        warnings = [f"{removed} sentence(s) repeated across sections were removed"] if removed else []
        done = [s for s in sections if s.status == "done"]
        narrative = plain_narrative(topic, sections)
        if done:
            per_section = max(400, cfg.context_token_budget * CHARS_PER_TOKEN // len(done))
            rendered = "\n\n".join(f"## {s.title}\n{s.content[:per_section]}" for s in done)
            messages = load_prompt("collator").messages(
                topic=topic, title=title, sections=rendered, section_count=len(done), language=cfg.language
            )
            try:
                answer = await (await providers.arole_models("collator", cfg)).structured(CollatorOutput, messages)
                meter.add_call("collator", answer.model, answer.message)
                narrative = answer.parsed
            except PROVIDER_FAILURES as exc:
                warnings.append(f"the collator model failed, connecting text was built without it: {exc}")
        narrative = tidy_narrative(narrative, topic, sections)
        for section, transition in zip(done, narrative.transitions, strict=False):
            section.transition = bibliography.keep_known(transition)
        steps = [*state.get("steps", []), *meter.record()]
        report = Report(
            title=title,
            topic=topic,
            executive_summary=bibliography.keep_known(narrative.executive_summary),
            introduction=bibliography.keep_known(narrative.introduction),
            sections=sections,
            conclusion=bibliography.keep_known(narrative.conclusion),
            bibliography=[BibliographyEntry(**e) for e in bibliography.entries],
            metadata=build_metadata(
                topic, state["paragraphs"], steps, cfg, config, await providers.adescribe_models(cfg), warnings
            ),
        )
        return {"report": report.model_dump(mode="json"), "steps": meter.record()}

    return collate
