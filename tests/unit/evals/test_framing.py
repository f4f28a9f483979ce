"""Self-references in the summary, introduction and conclusion are found by how the sentence is built, and the
share of framing sentences that cite a source and are supported is counted over all framing sentences."""

from __future__ import annotations

from nexa_research.evals.framing import score_framing
from nexa_research.evals.support import CitationSupport, SentenceSupport
from support.eval_reports import make_report


def _support(*rows: tuple[str, bool]) -> CitationSupport:
    return CitationSupport(threshold=0.6, sentences=[
        SentenceSupport(where=where, sentence="s [1].", cited=[1], score=0.9 if ok else 0.1, best_source_sentence="",
                        supported=ok) for where, ok in rows
    ])


def test_framing_counts_self_references_and_the_supported_share_over_all_framing_sentences():
    report = make_report(summary="This report examines the printing press. The press changed Europe [1].")
    support = _support(("summary", True), ("conclusion", False), ("section 1", True))
    framing = score_framing(report, support)
    # summary 2 sentences, introduction 1 ("This report follows ..."), conclusion 1
    assert framing.sentences == 4
    assert [(r.where, r.kind) for r in framing.self_references] == [("summary", "document"), ("introduction", "document")]
    assert framing.cited_supported == 1 and framing.supported_share == 0.25


def test_framing_of_a_report_without_framing_text_has_no_share():
    report = make_report(summary="")
    report = report.model_copy(update={"introduction": "", "conclusion": ""})
    framing = score_framing(report, _support())
    assert framing.sentences == 0 and framing.supported_share is None and framing.self_references == []
