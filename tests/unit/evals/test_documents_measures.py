"""The measures of research over a user's documents: page recall (any section of a listed page), a manual's
numbering in a title, and the debris a careless ingest leaves (navigation lines, headings run into sentences)."""

from __future__ import annotations

from nexa_research.evals.fragments import score_fragments
from nexa_research.evals.plan import is_numbered
from nexa_research.evals.recall import cites, score_relevant_recall
from nexa_research.report import BibliographyEntry, Report, ReportMetadata, ReportSection

PAGE = """<html><head><title>24.1. Routine Cleaning</title></head><body>
<div class="navheader"><a href="a.html">Prev</a> <a href="b.html">Up</a> <a href="c.html">Next</a></div>
<h2>24.1. Routine Cleaning</h2><h3>24.1.1. Cleaning Basics</h3><p>The CLEAN command processes each table.</p>
<div class="tip"><h3>Tip</h3><p>Run it at night.</p></div></body></html>"""


def report_citing(url: str, content: str, title: str = "Cleaning") -> Report:
    return Report(
        title="Cleaning tables", topic="How are tables cleaned?", executive_summary="", introduction="",
        sections=[ReportSection(index=0, title=title, content=content, status="done")], conclusion="",
        bibliography=[BibliographyEntry(number=1, url=url, title="Routine Cleaning › Cleaning Basics",
                                        source_ids=["s1"], passages=["The CLEAN command processes each table."])],
        metadata=ReportMetadata(topic="How are tables cleaned?", created_at="2026-01-01T00:00:00+00:00",
                                config={"language": "English"}),
    )


def test_a_page_is_found_whichever_section_was_cited_wherever_the_folder_is():
    assert cites("routine-cleaning.html", "file:///home/me/manual/routine-cleaning.html#CLEAN-BASICS")
    assert cites("library/tasks.html", "file:///usr/share/doc/kit/html/library/tasks.html")
    assert not cites("routine-cleaning.html", "file:///home/me/manual/routine-cleaning-old.html")
    assert not cites("routine-cleaning.html", "https://example.org/routine-cleaning.html")
    assert cites("https://en.wikipedia.org/wiki/Vacuum", "https://en.wikipedia.org/wiki/Vacuum/")
    report = report_citing("file:///x/routine-cleaning.html#CLEAN-BASICS", "The CLEAN command processes each table [1].")
    recall = score_relevant_recall(report, ["routine-cleaning.html", "sql-clean.html"])
    assert (recall.found, recall.missing, recall.recall) == (["routine-cleaning.html"], ["sql-clean.html"], 0.5)


def test_a_manuals_numbering_in_a_title_is_a_title_problem():
    assert is_numbered("25.1. Routine Vacuuming") and is_numbered("Chapter 13. Concurrency Control")
    assert is_numbered("Appendix F. Additional Modules") and is_numbered("13. Introduction")
    assert not is_numbered("The 1920s") and not is_numbered("1.5 million years of tools") and not is_numbered("Routine Vacuuming")


def test_navigation_and_headings_run_into_sentences_are_fragments(tmp_path):
    page = tmp_path / "routine-cleaning.html"
    page.write_text(PAGE)
    report = report_citing(page.as_uri() + "#CLEAN-BASICS",
                           "Prev Up Next Chapter 24 [1]. Cleaning Basics The CLEAN command processes each table [1]. "
                           "Tip Run it at night [1]. The CLEAN command processes each table at night [1].")
    kinds = [(f.kind, f.sentence) for f in score_fragments(report).items]
    assert kinds == [("navigation", "Prev Up Next Chapter 24 [1]."),
                     ("glued_heading", "Cleaning Basics The CLEAN command processes each table [1]."),
                     ("glued_heading", "Tip Run it at night [1].")]


def test_headings_are_only_read_from_local_pages_that_exist(tmp_path):
    gone = report_citing((tmp_path / "gone.html").as_uri(), "Tip Run it at night with care [1].")
    assert score_fragments(gone).items == []


def test_a_one_word_heading_is_too_common_to_call_a_sentence_glued(tmp_path):
    page = tmp_path / "glossary.html"
    page.write_text("<dl><dt>Isolation</dt><dd>What a transaction does not see.</dd></dl><h3>Tip</h3><p>x</p>")
    report = report_citing(page.as_uri(), "Isolation Level: Serializable; Dirty Read: Not possible [1]. "
                                          "Tip Run the cleaning at night when the load is low [1].")
    assert [f.kind for f in score_fragments(report).items] == ["glued_heading"]
