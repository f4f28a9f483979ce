"""The eval checks catch what they claim to: unresolved citations, duplicate URLs, ungrounded sentences."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))

from report_checks import score_report  # noqa: E402

from nexa_research.report import BibliographyEntry, Report, ReportMetadata, ReportSection  # noqa: E402


def _report(content: str, bib_urls: list[str]) -> Report:
    return Report(
        title="T", topic="t", executive_summary="s", introduction="i", conclusion="c",
        sections=[ReportSection(index=0, title="A", content=content, status="done")],
        bibliography=[BibliographyEntry(number=i + 1, url=u, title=u) for i, u in enumerate(bib_urls)],
        metadata=ReportMetadata(topic="t", created_at="2026-01-01T00:00:00+00:00"),
    )


def test_good_report_scores_clean():
    report = _report("Gutenberg built a printing press in Mainz [1]. It used movable metal type [1].", ["https://a.org/x"])
    score = score_report(report, [{"url": "https://a.org/x", "title": "Press", "text": "Gutenberg built a printing press in Mainz using movable metal type."}])
    assert score.citations_resolve and score.unique_sources
    assert score.citation_coverage == 1.0 and score.grounding == 1.0


def test_unresolved_citation_and_duplicate_urls_are_caught():
    report = _report("A claim about printing [2].", ["https://a.org/x", "http://www.a.org/x/"])
    score = score_report(report)
    assert score.citations_resolve is True  # [2] exists as an entry...
    assert score.unique_sources is False  # ...but both entries are one URL
    assert score_report(_report("A claim about printing [3].", ["https://a.org/x"])).citations_resolve is False


def test_sentence_not_supported_by_its_source_lowers_grounding():
    report = _report("Dragons invented telescopes during medieval festivals [1].", ["https://a.org/x"])
    score = score_report(report, [{"url": "https://a.org/x", "title": "Press", "text": "Gutenberg built a printing press."}])
    assert score.grounding == 0.0
