"""Score one report on every measure: `score_report(report) -> ReportEval`.

A ReportEval keeps, next to each number, the items behind it (the off-topic sources, the unsupported
sentences with the source sentence that came closest, the fragments, the duplicate pairs), because a score
without its reasons cannot be checked or acted on. It works on any report in the project's JSON format, whoever
wrote it; nothing here reads the pipeline's own grounding or relevance heuristics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nexa_research.evals.dataset import packaged_relevant_urls
from nexa_research.evals.duplicates import NearDuplicates, score_duplicates
from nexa_research.evals.fragments import Fragments, score_fragments
from nexa_research.evals.framing import Framing, score_framing
from nexa_research.evals.integrity import CitationIntegrity, score_integrity
from nexa_research.evals.judge import JudgeResult, judge_report
from nexa_research.evals.length import ReportLength, score_length
from nexa_research.evals.plan import PlanSanity, score_plan
from nexa_research.evals.recall import SourceRecall, score_recall, score_relevant_recall
from nexa_research.evals.relevance import SourceRelevance, score_sources
from nexa_research.evals.section_sources import SectionSources, score_section_sources
from nexa_research.evals.similarity import Similarity
from nexa_research.evals.support import CitationSupport, score_support
from nexa_research.evals.thresholds import Thresholds, load_thresholds
from nexa_research.report import Report


class ReportEval(BaseModel):
    topic: str
    title: str
    category: str = ""
    file: str | None = None
    sections: int
    missing_sections: int
    models: dict[str, list[str]]
    prompt_versions: dict[str, str]
    relevance: SourceRelevance
    support: CitationSupport
    plan: PlanSanity
    duplicates: NearDuplicates
    fragments: Fragments
    integrity: CitationIntegrity
    length: ReportLength
    recall: SourceRecall | None = None
    relevant_recall: SourceRecall | None = None
    section_sources: SectionSources | None = None
    framing: Framing | None = None
    judge: JudgeResult | None = None


@dataclass(frozen=True)
class Judge:
    """A configured judge: the chat model and the label its results carry."""

    chat_model: Any
    label: str


def score_report(
    report: Report,
    *,
    expect_urls: list[str] | None = None,
    relevant_urls: list[str] | None = None,
    sections_asked: int | None = None,
    category: str = "",
    seconds: float | None = None,
    file: Path | None = None,
    thresholds: Thresholds | None = None,
    similarity: Similarity | None = None,
    judge: Judge | None = None,
) -> ReportEval:
    """Every measure for `report`. `expect_urls` and `relevant_urls` enable the two recalls (relevant URLs are looked
    up in the packaged sets when only expected ones are given); `sections_asked` is the run's request (else read
    from the report's config); `seconds` is the wall time of the run."""
    thresholds = thresholds or load_thresholds()
    similarity = similarity or Similarity()
    if relevant_urls is None and expect_urls:
        relevant_urls = packaged_relevant_urls(report.topic, expect_urls)
    relevance = score_sources(report, similarity, thresholds.source_relevance, relevant_urls or ())
    support = score_support(report, similarity, thresholds.sentence_support)
    return ReportEval(
        topic=report.topic,
        title=report.title,
        category=category,
        file=str(file) if file else None,
        sections=len(report.sections),
        missing_sections=len(report.missing_sections),
        models=report.metadata.models,
        prompt_versions=report.metadata.prompt_versions,
        relevance=relevance,
        support=support,
        plan=score_plan(report, similarity, thresholds.duplicate_title, thresholds.section_support),
        duplicates=score_duplicates(report, similarity, thresholds.duplicate_sentence),
        fragments=score_fragments(report),
        integrity=score_integrity(report),
        length=score_length(report, seconds, sections_asked),
        recall=score_recall(report, expect_urls) if expect_urls else None,
        relevant_recall=score_relevant_recall(report, relevant_urls) if relevant_urls else None,
        section_sources=score_section_sources(report, relevance),
        framing=score_framing(report, support),
        judge=judge_report(report, judge.chat_model, judge.label) if judge else None,
    )
