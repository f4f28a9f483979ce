"""The evaluators flag exactly the defects planted in hand-made reports, and nothing in a clean one.

The reports cite real passages of the offline Wikipedia corpus (read from the installed data file), scored with
the real MiniLM embedder at the calibrated thresholds: the same path a real report takes. Each defective report
is the clean one with ONE defect planted, and the test compares every finding against the clean report's
(nothing) plus that defect, so an evaluator that over-flags fails as surely as one that misses.
"""

from __future__ import annotations

import pytest

from nexa_research.evals import ReportEval, score_report
from nexa_research.evals.dataset import expected_for, load_topics
from nexa_research.evals.fragments import fragment_kind
from nexa_research.evals.plan import is_generic
from nexa_research.evals.report_text import split_text
from nexa_research.evals.similarity import Similarity
from nexa_research.providers.kb.ingest import wikipedia_url
from support.eval_reports import EXPECTED, SECTIONS, SUMMARY, make_report

FRAGMENTS = [
    ("markup", "## Printing in Mainz"),
    ("foreign_script", "The press reached Moscow, known as Москва, in the sixteenth century."),
    ("label", "Key points:"),
    ("question", "Why did printing spread so fast?"),
    ("short", "Printing mattered."),
    ("unterminated", "The press then spread to Venice and"),
]


def defects(e: ReportEval) -> dict[str, list]:
    """Every finding of every evaluator, in a form a test can compare."""
    return {
        "off_topic": [s.number for s in e.relevance.off_topic],
        "unscored_sources": e.relevance.unscored,
        "unsupported": [s.sentence for s in e.support.unsupported],
        "generic_titles": e.plan.generic_titles,
        "duplicate_titles": [(p.first, p.second) for p in e.plan.duplicate_titles],
        "unsupported_sections": [s.title for s in e.plan.unsupported_sections],
        "near_duplicates": [(p.first_where, p.second_where) for p in e.duplicates.pairs],
        "fragments": [(f.kind, f.sentence) for f in e.fragments.items],
        "unresolved": [(u.where, u.number) for u in e.integrity.unresolved],
        "duplicate_urls": e.integrity.duplicate_urls,
        "uncited": e.integrity.uncited,
        "missing_expected": e.recall.missing if e.recall else [],
    }


@pytest.fixture(scope="module")
def similarity() -> Similarity:
    return Similarity()


@pytest.fixture(scope="module")
def clean(similarity) -> ReportEval:
    return score_report(make_report(), expect_urls=EXPECTED, similarity=similarity)


def _expect(**changed) -> dict[str, list]:
    keys = ("off_topic", "unscored_sources", "unsupported", "generic_titles", "duplicate_titles", "unsupported_sections",
            "near_duplicates", "fragments", "unresolved", "duplicate_urls", "uncited", "missing_expected")
    return {key: changed.get(key, []) for key in keys}


def test_clean_report_has_no_findings(clean):
    assert defects(clean) == _expect()
    assert clean.relevance.on_topic_share == 1.0 and clean.support.supported_share == 1.0
    assert clean.recall.recall == 1.0 and len(clean.support.sentences) == 8
    assert clean.length.words_total > 80 and [s.words for s in clean.length.sections] == [24, 29, 26]
    assert clean.length.tokens_total == 180


def test_off_topic_source_is_flagged(similarity):
    content = SECTIONS[0][1] + " Giraffes are the tallest living land animals [4]."
    report = make_report([(SECTIONS[0][0], content, ""), *SECTIONS[1:]], extra_sources=((4, "Giraffe"),))
    result = score_report(report, expect_urls=EXPECTED, similarity=similarity)
    assert defects(result) == _expect(off_topic=[4])
    assert result.relevance.off_topic[0].title == "Giraffe" and result.relevance.on_topic_share == 0.75


def test_a_source_the_topics_relevant_list_names_is_on_topic_whatever_its_score(similarity):
    """The embedding misses what a subject is made of (Franklin D. Roosevelt 0.28 against the Great Depression and
    the New Deal); a topic's hand-made list of relevant articles is a label, and a label beats the score. The
    share on score alone is still reported."""
    content = SECTIONS[0][1] + " Giraffes are the tallest living land animals [4]."
    report = make_report([(SECTIONS[0][0], content, ""), *SECTIONS[1:]], extra_sources=((4, "Giraffe"),))
    listed = [*EXPECTED, wikipedia_url("Giraffe")]
    result = score_report(report, expect_urls=EXPECTED, relevant_urls=listed, similarity=similarity)
    giraffe = next(s for s in result.relevance.sources if s.title == "Giraffe")
    assert giraffe.listed and giraffe.on_topic and giraffe.score < result.relevance.threshold
    assert result.relevance.on_topic_share == 1.0 and result.relevance.on_topic_by_score_share == 0.75


def test_unsupported_cited_sentence_is_flagged_with_its_closest_source_sentence(similarity):
    claim = "Gutenberg sold his first Bibles to the Pope at a large profit [2]."
    report = make_report([(SECTIONS[0][0], f"{SECTIONS[0][1]} {claim}", ""), *SECTIONS[1:]])
    result = score_report(report, expect_urls=EXPECTED, similarity=similarity)
    assert defects(result) == _expect(unsupported=[claim])
    found = result.support.unsupported[0]
    assert found.where == "section 1" and found.cited == [2] and found.best_source_sentence
    assert found.score < result.support.threshold


def test_generic_title_is_flagged(similarity):
    report = make_report([*SECTIONS[:2], ("Background", *SECTIONS[2][1:])])
    assert defects(score_report(report, expect_urls=EXPECTED, similarity=similarity)) == _expect(generic_titles=["Background"])


def test_near_duplicate_title_is_flagged(similarity):
    report = make_report([*SECTIONS[:2], ("The movable type press of Gutenberg", *SECTIONS[2][1:])])
    found = defects(score_report(report, expect_urls=EXPECTED, similarity=similarity))
    assert found == _expect(duplicate_titles=[("Gutenberg's movable-type press", "The movable type press of Gutenberg")])


def test_section_without_a_source_about_it_is_flagged(similarity):
    report = make_report([*SECTIONS[:2], ("Newspapers in the nineteenth century", *SECTIONS[2][1:])])
    found = defects(score_report(report, expect_urls=EXPECTED, similarity=similarity))
    assert found == _expect(unsupported_sections=["Newspapers in the nineteenth century"])


def test_near_duplicate_sentences_across_summary_and_section_are_flagged(similarity):
    summary = f"{SUMMARY} Gutenberg's press allowed a much faster rate of printing than earlier methods [2]."
    result = score_report(make_report(summary=summary), expect_urls=EXPECTED, similarity=similarity)
    assert defects(result) == _expect(near_duplicates=[("summary", "section 1")])
    assert not result.duplicates.pairs[0].identical


def test_each_kind_of_fragment_is_flagged(similarity):
    content = SECTIONS[2][1] + "\n" + "\n".join(sentence for _, sentence in FRAGMENTS)
    report = make_report([*SECTIONS[:2], (SECTIONS[2][0], content, SECTIONS[2][2])])
    result = score_report(report, expect_urls=EXPECTED, similarity=similarity)
    assert defects(result) == _expect(fragments=FRAGMENTS)
    assert {f.where for f in result.fragments.items} == {"section 3"}


def test_missing_expected_source_lowers_recall(clean, similarity):
    extra = wikipedia_url("Movable type printing in Korea")
    result = score_report(make_report(), expect_urls=[*EXPECTED, extra], similarity=similarity)
    assert defects(result) == _expect(missing_expected=[extra])
    assert result.recall.recall == pytest.approx(2 / 3)


@pytest.mark.parametrize(("sentence", "kind"), [
    ("**Bold** claims appear here.", "markup"),
    ("Some `code` was left here.", "markup"),
    ("- A list item was left in place.", "markup"),
    ("2. A numbered item was left in place.", "markup"),
    ("This needs a source [citation needed].", "markup"),
    ("A [link](https://example.org) was left here.", "markup"),
    ("A <b>bold</b> word was left here.", "markup"),
    ("Fish &amp; chips were sold in the street.", "markup"),
    ("The capital 北京 grew quickly.", "foreign_script"),
    ("Sources: [1], [2]", "label"),
    ("Note: the dates are uncertain.", "label"),
    ("What happened next? [1]", "question"),
    ("Yes.", "short"),
    ("The press spread to Venice [1]", "unterminated"),
    ("The press spread to Venice...", "unterminated"),
    ("Printing spread quickly [1].", None),
    ("It cost 1.5 million florins, a fortune at the time [2, 3].", None),
    ("Gutenberg's Bible (about 1455) was printed in Mainz [1-2].", None),
])
def test_fragment_kinds(sentence, kind):
    assert fragment_kind(sentence) == kind


def test_foreign_script_is_not_a_fragment_in_a_report_in_another_language():
    assert fragment_kind("Печатный станок появился в Москве.", english=False) is None


@pytest.mark.parametrize(("title", "generic"), [
    ("Introduction", True), ("Background and overview", True), ("Key findings", True),
    ("Historical significance", True), ("Section 2", True), ("Conclusion", True),
    ("Main topics covered", True), ("Key areas covered by each section", True),  # a plan in the 24-topic eval
    ("Gutenberg's workshop", False), ("Impact on literacy", False), ("History of movable type", False),
])
def test_generic_titles(title, generic):
    assert is_generic(title) is generic


def test_sentences_keep_abbreviations_and_citations_written_after_the_full_stop():
    assert split_text("Printed c. 1450 in Mainz by J. Gutenberg. It spread quickly. [2] Then it reached Venice.") == [
        "Printed c. 1450 in Mainz by J. Gutenberg.", "It spread quickly. [2]", "Then it reached Venice.",
    ]


def test_relevant_urls_of_a_packaged_topic_are_used_when_only_expected_urls_are_given(clean, similarity):
    packaged = expected_for(clean.topic, load_topics())
    assert clean.relevant_recall is not None and clean.relevant_recall.expected == packaged.relevant_urls
    assert clean.relevant_recall.found == [*EXPECTED, wikipedia_url("Printing")]
    assert score_report(make_report(), expect_urls=EXPECTED, relevant_urls=[], similarity=similarity).relevant_recall is None
    assert clean.section_sources.mean == 1.0 and len(clean.framing.self_references) == 1
