"""One run's scores over all its reports, and the targets a run should meet.

Shares are pooled over the whole run (all cited sources, all cited sentences, all framing sentences), not
averaged per report, so a report with two sources does not weigh as much as one with twenty. Both recalls are
means over the reports whose topic has such sources; sources per section is the mean over every printed section
of the run. Counts (title problems, fragments, near-duplicates, self-references) are totals: the target for
each is zero. A target with nothing to measure (no report had expected sources, say) is not applicable rather
than met. A report that failed to be written at all fails every target of its run.

Informational targets (words for the sections asked) are reported beside the others but never fail a run:
a thin corpus can honestly cap a report's length, and a pipeline should not pad to meet it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from nexa_research.evals.scorer import ReportEval
from nexa_research.evals.section_sources import ENOUGH_SOURCES


class TopicRow(BaseModel):
    """One report's headline numbers, as the table, the plot and the history show them."""

    topic: str
    category: str
    file: str | None
    sections: int
    missing_sections: int
    words: int
    sources: int
    on_topic: float | None
    supported: float | None
    recall: float | None
    relevant_recall: float | None = None
    sources_per_section: float | None = None
    self_references: int = 0
    framing_supported: float | None = None
    sections_asked: int | None = None
    sections_printed: int | None = None
    title_problems: int
    unsupported_sections: int
    fragments: int
    near_duplicates: int
    seconds: float | None
    tokens: int
    judge: float | None


def topic_row(e: ReportEval) -> TopicRow:
    return TopicRow(
        topic=e.topic, category=e.category, file=e.file, sections=e.sections, missing_sections=e.missing_sections,
        words=e.length.words_total, sources=len(e.relevance.sources) + len(e.relevance.unscored),
        on_topic=e.relevance.on_topic_share, supported=e.support.supported_share,
        recall=e.recall.recall if e.recall else None,
        relevant_recall=e.relevant_recall.recall if e.relevant_recall else None,
        sources_per_section=e.section_sources.mean if e.section_sources else None,
        self_references=len(e.framing.self_references) if e.framing else 0,
        framing_supported=e.framing.supported_share if e.framing else None,
        sections_asked=e.length.sections_asked, sections_printed=e.length.sections_printed,
        title_problems=e.plan.title_problems,
        unsupported_sections=len(e.plan.unsupported_sections), fragments=e.fragments.count,
        near_duplicates=e.duplicates.count, seconds=e.length.seconds, tokens=e.length.tokens_total,
        judge=e.judge.mean_score if e.judge else None,
    )


class Aggregate(BaseModel):
    reports: int
    failed: int
    sources_scored: int
    sources_on_topic: float | None
    sentences_cited: int
    sources_on_topic_by_score: float | None = None  # the embedding alone, the topics' relevant lists aside
    sentences_supported: float | None
    recall_mean: float | None
    relevant_recall_mean: float | None = None
    sections_scored: int = 0
    sources_per_section: float | None = None
    self_references: int = 0
    framing_sentences: int = 0
    framing_supported: float | None = None
    sections_asked: int = 0
    sections_printed: int = 0
    words_goal_met: float | None = None
    title_problems: int
    unsupported_sections: int
    fragments: int
    near_duplicates: int
    unresolved_citations: int
    words_mean: float | None
    seconds_total: float | None
    tokens_total: int
    judge_mean: float | None


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    goal: str
    met: Callable[[Aggregate], bool | None]
    informational: bool = False


def _at_least(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


TARGETS: tuple[Target, ...] = (
    Target("sources_on_topic", "cited sources on-topic", ">= 90%", lambda a: _at_least(a.sources_on_topic, 0.90)),
    Target("recall_mean", "expected-source recall (mean)", ">= 2/3", lambda a: _at_least(a.recall_mean, 2 / 3 - 1e-9)),
    Target("title_problems", "generic or duplicate titles", "0", lambda a: a.title_problems == 0),
    Target("fragments", "fragments", "0", lambda a: a.fragments == 0),
    Target("near_duplicates", "near-duplicate sentence pairs", "0", lambda a: a.near_duplicates == 0),
    Target("sentences_supported", "cited sentences supported", ">= 95%", lambda a: _at_least(a.sentences_supported, 0.95)),
    Target("relevant_recall_mean", "relevant-source recall (mean; found / min(10, relevant))", ">= 60%",
           lambda a: _at_least(a.relevant_recall_mean, 0.60)),
    Target("sources_per_section", "distinct on-topic sources per section (mean)", f">= {ENOUGH_SOURCES}",
           lambda a: _at_least(a.sources_per_section, ENOUGH_SOURCES)),
    Target("self_references", "self-references in summary, introduction, conclusion", "0",
           lambda a: a.self_references == 0),
    Target("words_goal_met", "reports with >= 200 words per section asked (1,000 for 5)", "all (informational)",
           lambda a: _at_least(a.words_goal_met, 1.0), informational=True),
)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(evals: Sequence[ReportEval], failed: int = 0) -> Aggregate:
    sources = [s for e in evals for s in e.relevance.sources]
    sentences = [s for e in evals for s in e.support.sentences]
    seconds = [e.length.seconds for e in evals if e.length.seconds is not None]
    judged = [e.judge.mean_score for e in evals if e.judge and e.judge.mean_score is not None]
    section_counts = [s.count for e in evals if e.section_sources for s in e.section_sources.sections]
    framing = [e.framing for e in evals if e.framing]
    framing_sentences = sum(f.sentences for f in framing)
    goals = [e.length.words_total >= e.length.words_goal for e in evals if e.length.words_goal]
    return Aggregate(
        reports=len(evals),
        failed=failed,
        sources_scored=len(sources),
        sources_on_topic=_mean([float(s.on_topic) for s in sources]),
        sources_on_topic_by_score=_mean([float(s.score >= e.relevance.threshold) for e in evals for s in e.relevance.sources]),
        sentences_cited=len(sentences),
        sentences_supported=_mean([float(s.supported) for s in sentences]),
        recall_mean=_mean([e.recall.recall for e in evals if e.recall and e.recall.recall is not None]),
        relevant_recall_mean=_mean([e.relevant_recall.recall for e in evals
                                    if e.relevant_recall and e.relevant_recall.recall is not None]),
        sections_scored=len(section_counts),
        sources_per_section=_mean([float(c) for c in section_counts]),
        self_references=sum(len(f.self_references) for f in framing),
        framing_sentences=framing_sentences,
        framing_supported=sum(f.cited_supported for f in framing) / framing_sentences if framing_sentences else None,
        sections_asked=sum(e.length.sections_asked or 0 for e in evals),
        sections_printed=sum(e.length.sections_printed for e in evals if e.length.sections_asked),
        words_goal_met=_mean([float(g) for g in goals]),
        title_problems=sum(e.plan.title_problems for e in evals),
        unsupported_sections=sum(len(e.plan.unsupported_sections) for e in evals),
        fragments=sum(e.fragments.count for e in evals),
        near_duplicates=sum(e.duplicates.count for e in evals),
        unresolved_citations=sum(len(e.integrity.unresolved) for e in evals),
        words_mean=_mean([e.length.words_total for e in evals]),
        seconds_total=round(sum(seconds), 1) if seconds else None,
        tokens_total=sum(e.length.tokens_total for e in evals),
        judge_mean=_mean(judged),
    )


def target_results(agg: Aggregate) -> dict[str, bool | None]:
    """Target name -> met (None: nothing to measure); every target fails when a report could not be written.
    Informational targets are not among them (see `informational_results`)."""
    return {t.name: False if agg.failed else t.met(agg) for t in TARGETS if not t.informational}


def informational_results(agg: Aggregate) -> dict[str, bool | None]:
    """Informational target name -> met: shown beside the targets, never failing a run."""
    return {t.name: t.met(agg) for t in TARGETS if t.informational}
