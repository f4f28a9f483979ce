"""collate: one report from all sections, with citations renumbered and the bibliography written in code.

The collator sees every section, so it writes the parts that tie them together (summary, introduction,
transitions, conclusion). Code does the rest deterministically: removal of sentences that repeat (or nearly
repeat) another section's (the copy in the section the sentence is about stays: nodes/text/ownership.py), global
[n] numbering in order of first citation, one bibliography entry per normalised URL, and a sentence-by-sentence
check of the editor's text (nodes/text/narrative.py). If the editor model fails, the report is still assembled,
with plainer connecting text and a warning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import ProviderError
from nexa_research.kernel.sentences import split_sentences
from nexa_research.nodes.accounting.metering import StepMeter
from nexa_research.nodes.accounting.run_metadata import build_metadata
from nexa_research.nodes.checks.relevance import section_text
from nexa_research.nodes.progress import emit
from nexa_research.nodes.text.citations import EXTRA_NUMBERS, BibliographyBuilder
from nexa_research.nodes.text.key_findings import lift_key_findings, lift_last_resort
from nexa_research.nodes.text.narrative import (
    findings,
    fit,
    framing,
    plain_conclusion,
    plain_introduction,
    plain_summary,
    section_evidence,
    spread_summary,
    tidied,
)
from nexa_research.nodes.text.ownership import SectionDraft, settle_shared_sources
from nexa_research.nodes.text.prompt_inputs import CHARS_PER_TOKEN
from nexa_research.nodes.text.repetition import drop_near_duplicates, without_orphans
from nexa_research.nodes.text.unprinted_findings import unprinted_findings
from nexa_research.prompts import load_prompt
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.relevance import Relevance
from nexa_research.report import BibliographyEntry, Report, ReportSection, ResearchRoundRecord
from nexa_research.state import Paragraph, ResearchState, Source
from nexa_research.urls import normalize_url

Transition = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]

# Sentences the summary has at least, where the sources hold them: a summary of one moved sentence (the sections
# could spare no more) told a reader one fact of a five-section report.
SUMMARY_SENTENCES = 3


class CollatorOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    executive_summary: str = Field(min_length=20, max_length=2000, description="3-6 sentences of main findings.")
    introduction: str = Field(min_length=20, max_length=2000, description="What the report covers and why.")
    transitions: list[Transition] = Field(default_factory=list, max_length=7, description="One per section, in order.")
    conclusion: str = Field(min_length=20, max_length=2000, description="What it all adds up to.")


def assemble_sections(
    state: ResearchState, relevance: Relevance | None
) -> tuple[list[ReportSection], BibliographyBuilder, int, list[str]]:
    """Drop what another section says (a shared source's passage stays in the section it is about,
    `settle_shared_sources`; a same or near-same sentence of another source, in the earlier), then renumber
    citations globally.

    De-duplication comes first so that a source whose only sentences were repeats never enters the bibliography.
    A section left with nothing of its own is not printed at all (a reader gains nothing from "missing: already
    said"); its title is returned so the report's metadata says so. Sections that failed stay, marked missing.
    """
    bibliography = BibliographyBuilder()
    printed: list[str] = []
    sections: list[ReportSection] = []
    repeated: list[str] = []
    paragraphs = sorted(state["paragraphs"], key=lambda p: p["index"])
    done = [p for p in paragraphs if p["status"] == "done"]
    # a source two sections print stays in the one it is about; first-come removes repeated sentences below
    drafts = [SectionDraft(section_text(p), p["latest_summary"], p["research"]) for p in done]
    owned, removed_total = settle_shared_sources(relevance, drafts)
    texts = {p["index"]: text for p, text in zip(done, owned, strict=True)}
    for p in paragraphs:
        content, status, error = "", p["status"], p.get("error")
        if status == "done":
            local, removed = drop_near_duplicates(relevance, texts[p["index"]], printed)
            local, orphans = without_orphans(local)
            removed_total += removed + orphans
            content = bibliography.renumber_section(local, p["research"])
            if not content.strip():
                repeated.append(p["title"])
                continue
        sections.append(
            ReportSection(
                index=p["index"],
                title=p["title"],
                content=content,
                status="done" if status == "done" else "missing",
                error=None if status == "done" else error,
                iterations=p["iterations"],
                queries=list(p["queries"]),
                rounds=[ResearchRoundRecord(**r) for r in p.get("rounds") or []],
                stop_reason=p.get("stop_reason"),
                citation_repairs=p.get("citation_repairs", 0),
                unsupported_removed=p.get("unsupported_removed", 0),
            )
        )
    return sections, bibliography, removed_total, repeated


def checked_narrative(
    relevance: Relevance | None,
    narrative: CollatorOutput | None,
    topic: str,
    sections: list[ReportSection],
    passages: Sequence[tuple[int, str]] = (),
    last_resort: bool = True,
) -> CollatorOutput:
    """Summary, introduction and conclusion that state findings; transitions from the editor, checked.

    With a scorer, the introduction, summary and conclusion are the sections' own key sentences, moved up in
    code (nodes/text/key_findings.py; the section contents are updated in place); where no section has a
    sentence to spare, the editor's summary and conclusion where the sections support them sentence by sentence
    (nodes/text/narrative.py); then the sentences of the cited `passages` that no section printed
    (nodes/text/unprinted_findings.py); then, as a last resort, a sentence of a section of two
    (`LAST_RESORT_MIN_LEFT`; `last_resort` False: not yet, the editor is asked first). A part still empty (a
    section of one sentence has nothing to give) stays empty, and the report prints no heading for it.
    """
    done = [s for s in sections if s.status == "done"]
    titles = [s.title for s in done]
    evidence = section_evidence([s.content for s in done])
    printed = [e.text for e in evidence]
    summary = introduction = conclusion = ""
    transitions: list[str] = []
    if narrative is not None and relevance is None:
        summary = tidied(narrative.executive_summary, printed)
        introduction = tidied(narrative.introduction, printed)
        transitions = [tidied(t, printed) for t in narrative.transitions]
        conclusion = tidied(narrative.conclusion, printed)
    elif relevance is not None:
        lifted = lift_key_findings(relevance, topic, titles, [s.content for s in done])
        for section, content in zip(done, lifted.contents, strict=True):
            section.content = content
        summary, introduction, conclusion = lifted.summary, lifted.introduction, lifted.conclusion
        # a sentence left behind with its subject written out ("Manaus is situated ...", was "It is situated ...")
        # is printed as it reads now: offered again from its passage, it was a copy in a summary
        printed = [*printed, *(e.text for e in section_evidence([s.content for s in done]))]
        if narrative is not None and not (summary and conclusion):
            # where no section has a sentence to spare: the editor's, where the sections support it sentence by
            # sentence (a 0.5B editor's "a diverse field that spans various historical periods" passed that check,
            # so it never comes before the sections' own words)
            printed = [*printed, *split_sentences(f"{summary} {introduction} {conclusion}")]
            summary = summary or fit(findings(relevance, narrative.executive_summary, evidence, printed))
            printed = [*printed, *split_sentences(summary)]
            conclusion = conclusion or findings(relevance, narrative.conclusion, evidence, printed)
        printed = [*printed, *split_sentences(f"{summary} {introduction} {conclusion}")]
        summary_short = SUMMARY_SENTENCES - len(split_sentences(summary))
        if passages and (summary_short > 0 or not (introduction and conclusion)):
            # sections too short to spare a sentence: what their cited passages say that no section printed
            unprinted = unprinted_findings(relevance, topic, passages, printed)
            # one sentence for each empty part before the rest of the summary
            introduction = introduction or unprinted.take(1)
            first = unprinted.take(1) if summary_short > 0 else ""
            conclusion = conclusion or unprinted.take(1)
            rest = unprinted.take(summary_short - 1) if summary_short > 1 else ""
            summary = " ".join(part for part in (summary, first, rest) if part)
            printed = [*printed, *split_sentences(f"{summary} {introduction} {conclusion}")]
        if last_resort and done and not (summary and introduction and conclusion):
            # the last resort before a sentence about the report: sections of two sentences give one up
            last = lift_last_resort(relevance, topic, titles, [s.content for s in done], summary=summary,
                                    introduction=introduction, conclusion=conclusion)
            for section, content in zip(done, last.contents, strict=True):
                section.content = content
            summary, introduction, conclusion = spread_summary(last.summary, last.introduction, last.conclusion)
            printed = [*printed, *split_sentences(f"{summary} {introduction} {conclusion}")]
        if narrative is not None:
            transitions = [framing(relevance, topic, t, printed) for t in narrative.transitions]
    return CollatorOutput.model_construct(
        executive_summary=fit(summary) or plain_summary(topic, titles),
        introduction=fit(introduction) or plain_introduction(topic, titles),
        transitions=[fit(t, 300) for t in transitions],
        conclusion=fit(conclusion) or plain_conclusion(topic, titles),
    )


def gathered_uncited(paragraphs: Sequence[Paragraph], bibliography: BibliographyBuilder) -> list[Source]:
    """The sources written sections gathered that no section prints, one per document, in gathering order: the gate
    judged them on the topic, but ownership, the word budget or the section cut-off left them out (a Great
    Depression report printed 6 of its 14 sources), while the summary fell back to sentences about the report."""
    found: dict[str, Source] = {}
    for p in sorted(paragraphs, key=lambda p: p["index"]):
        if p["status"] != "done":
            continue
        for source in p["research"]:
            key = normalize_url(source["url"])
            if key not in bibliography.numbers and key not in found:
                found[key] = source
    return list(found.values())


def states_findings(narrative: CollatorOutput) -> bool:
    """Whether the summary, introduction and conclusion all state findings (a part the sources gave nothing for is
    left empty: see nodes/text/narrative.py)."""
    return bool(narrative.executive_summary and narrative.introduction and narrative.conclusion)


def fewer_sections(planned: int, asked: int) -> list[str]:
    """Said in the report when the plan has fewer sections than asked: the planner pads no plan (a section without
    sources of its own is not research), so the reader learns the corpus supported no more."""
    if planned >= asked:
        return []
    return [f"{planned} of the {asked} sections asked were planned: the sources found on the topic support no more "
            "distinct sections"]


def make_collate_node(providers: Providers):
    async def collate(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        meter = StepMeter("collate")
        topic = state["topic"]
        title = state.get("title") or topic
        relevance = providers.relevance()
        sections, bibliography, removed, repeated = await asyncio.to_thread(assemble_sections, state, relevance)
        warnings = [f"{removed} passage(s) or sentence(s) repeated across sections were removed"] if removed else []
        warnings += [f"section {title!r} was left out: everything its sources say is already in another section"
                     for title in repeated]
        warnings += fewer_sections(len(state["paragraphs"]), cfg.min_sections)
        done = [s for s in sections if s.status == "done"]
        narrative: CollatorOutput | None = None
        passages = [(e["number"], text) for e in bibliography.entries for text in e["passages"]]
        # the sources the sections gathered and printed nothing of are findings too, numbered after the cited ones
        extra = gathered_uncited(state["paragraphs"], bibliography) if relevance is not None else []
        passages += [(EXTRA_NUMBERS + i, s.get("focus") or s["text"]) for i, s in enumerate(extra, start=1)]
        written_in_code: CollatorOutput | None = None
        if relevance is not None and done:
            # the model's text is a fallback for a summary or conclusion the sources cannot give; its transitions
            # were never kept on the embedded default (0 of 53 sections of 12 eval reports): when the sources state
            # all three parts, the call (10-106 s of a report's time) is not made
            copies = [s.model_copy(deep=True) for s in sections]
            trial = await asyncio.to_thread(
                checked_narrative, relevance, None, topic, copies, passages, False
            )
            if states_findings(trial):
                written_in_code = trial
                for section, copy in zip(sections, copies, strict=True):
                    section.content = copy.content
        if done and written_in_code is None:
            per_section = max(400, cfg.context_token_budget * CHARS_PER_TOKEN // len(done))
            rendered = "\n\n".join(f"## {s.title}\n{s.content[:per_section]}" for s in done)
            messages = load_prompt("collator").messages(
                topic=topic, title=title, sections=rendered, section_count=len(done), language=cfg.language
            )
            try:
                answer = await (await providers.arole_models("collator", cfg)).structured(CollatorOutput, messages)
                meter.add_call("collator", answer.model, answer.message)
                narrative = answer.parsed
            except ProviderError as exc:
                warnings.append(f"the collator model failed, connecting text was built without it: {exc}")
        checked = written_in_code
        if checked is None:
            checked = await asyncio.to_thread(
                checked_narrative, relevance, narrative, topic, sections, passages
            )
        for section, transition in zip(done, checked.transitions, strict=False):
            section.transition = bibliography.keep_known(transition)
        summary, introduction, conclusion = bibliography.admit_cited(
            [checked.executive_summary, checked.introduction, checked.conclusion], extra
        )
        # a section whose every sentence went up into the summary, introduction or conclusion is not printed empty
        emptied = [s.title for s in done if not s.content.strip()]
        sections = [s for s in sections if s.status != "done" or s.content.strip()]
        warnings += [f"section {t!r} was left out: its sentences state the report's summary, introduction or "
                     "conclusion" for t in emptied]
        steps = [*state.get("steps", []), *meter.record()]
        report = Report(
            title=title,
            topic=topic,
            executive_summary=summary,
            introduction=introduction,
            sections=sections,
            conclusion=conclusion,
            bibliography=[BibliographyEntry(**e) for e in bibliography.entries],
            metadata=build_metadata(
                topic, state["paragraphs"], steps, cfg, config, await providers.adescribe_models(cfg), warnings
            ),
        )
        prose = [report.executive_summary, report.introduction, *(s.content for s in sections), report.conclusion]
        emit({"kind": "report", "sections": len(sections), "words": sum(len(p.split()) for p in prose),
              "sources": len(report.bibliography)})
        return {"report": report.model_dump(mode="json"), "steps": meter.record()}

    return collate
