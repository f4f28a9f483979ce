"""The citation checks of the eval suite catch what they claim to: unresolved numbers, one URL listed twice,
a source listed but never cited. No embedder is needed for these."""

from __future__ import annotations

from nexa_research.evals.integrity import score_integrity
from nexa_research.report import BibliographyEntry, Report, ReportMetadata, ReportSection


def _report(content: str, bib_urls: list[str], summary: str = "s") -> Report:
    return Report(
        title="T", topic="t", executive_summary=summary, introduction="i", conclusion="c",
        sections=[ReportSection(index=0, title="A", content=content, status="done")],
        bibliography=[BibliographyEntry(number=i + 1, url=u, title=u) for i, u in enumerate(bib_urls)],
        metadata=ReportMetadata(topic="t", created_at="2026-01-01T00:00:00+00:00"),
    )


def test_clean_citations():
    result = score_integrity(_report("Gutenberg built a press in Mainz [1]. It used metal type [2].", ["https://a.org/x", "https://b.org/y"]))
    assert result.citations_resolve and result.unique_sources
    assert result.unresolved == [] and result.uncited == []


def test_unresolved_citation_is_reported_with_where_it_occurs():
    result = score_integrity(_report("A claim about printing [1].", ["https://a.org/x"], summary="A summary claim [3]."))
    assert not result.citations_resolve
    assert [(u.where, u.number) for u in result.unresolved] == [("summary", 3)]


def test_duplicate_urls_and_uncited_entries_are_reported():
    result = score_integrity(_report("A claim about printing [2].", ["https://a.org/x", "http://www.a.org/x/"]))
    assert result.citations_resolve  # [2] exists as an entry...
    assert not result.unique_sources and result.duplicate_urls == ["https://a.org/x"]  # ...but both entries are one URL
    assert result.uncited == [1]
