"""A section's sources are the distinct bibliography entries its text cites that the relevance measure finds on
the topic; sections printed as missing are not counted, and the mean is over printed sections."""

from __future__ import annotations

from nexa_research.evals.relevance import SourceRelevance, SourceScore
from nexa_research.evals.section_sources import score_section_sources
from nexa_research.report import ReportSection
from support.eval_reports import SECTIONS, make_report


def _relevance(on_topic: dict[int, bool]) -> SourceRelevance:
    return SourceRelevance(threshold=0.36, unscored=[], sources=[
        SourceScore(number=n, url=f"https://example.org/{n}", title=str(n), score=0.9 if ok else 0.1, on_topic=ok)
        for n, ok in on_topic.items()
    ])


def test_each_section_counts_its_distinct_on_topic_citations():
    first = "Gutenberg invented the press [2]. It printed fast [2]. Printing is older [3]. Giraffes are tall [4]."
    report = make_report([(SECTIONS[0][0], first, ""), *SECTIONS[1:]])
    result = score_section_sources(report, _relevance({1: True, 2: True, 3: True, 4: False}))
    assert [(s.number, s.cited, s.on_topic, s.count) for s in result.sections] == [
        (1, [2, 3, 4], [2, 3], 2), (2, [1], [1], 1), (3, [3], [3], 1),
    ]
    assert result.mean == 4 / 3


def test_missing_and_empty_sections_are_not_counted():
    report = make_report()
    sections = [*report.sections[:2], ReportSection(index=2, title="Lost", content="", status="missing", error="x"),
                ReportSection(index=3, title="Only citations", content="[1]", status="done")]
    result = score_section_sources(report.model_copy(update={"sections": sections}), _relevance({1: True, 2: True}))
    assert [s.number for s in result.sections] == [1, 2] and result.mean == 1.0


def test_unscored_and_off_topic_sources_do_not_count():
    result = score_section_sources(make_report(), _relevance({1: False, 2: True}))  # 3 is unscored
    assert [s.count for s in result.sections] == [1, 0, 0]


def test_a_report_without_printed_sections_has_no_mean():
    report = make_report().model_copy(update={"sections": []})
    assert score_section_sources(report, _relevance({})).mean is None
