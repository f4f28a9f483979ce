"""Both recalls: every expected article counts; relevant articles make a full score at min(10, listed), capped."""

from __future__ import annotations

import pytest

from nexa_research.evals.recall import score_recall, score_relevant_recall
from nexa_research.providers.kb.ingest import wikipedia_url
from nexa_research.report import BibliographyEntry
from support.eval_reports import EXPECTED, make_report

CITED = [wikipedia_url(t) for t in ("Printing press", "Johannes Gutenberg", "Printing")]  # make_report's bibliography
UNCITED = [wikipedia_url(f"Article {n}") for n in range(20)]


def test_expected_recall_counts_every_expected_article():
    result = score_recall(make_report(), [*EXPECTED, UNCITED[0]])
    assert result.found == EXPECTED and result.missing == [UNCITED[0]]
    assert result.recall == pytest.approx(2 / 3)


def test_relevant_recall_divides_by_the_list_when_it_is_short():
    result = score_relevant_recall(make_report(), [*CITED, *UNCITED[:5]])
    assert result.needed == 8 and result.recall == pytest.approx(3 / 8)
    assert result.missing == UNCITED[:5]


def test_relevant_recall_needs_ten_of_a_long_list():
    result = score_relevant_recall(make_report(), [*CITED, *UNCITED[:12]])
    assert result.needed == 10 and result.recall == pytest.approx(3 / 10)


def test_relevant_recall_is_capped_at_one():
    report = make_report()
    extra = [BibliographyEntry(number=4 + n, url=UNCITED[n], title=f"Article {n}") for n in range(9)]
    report = report.model_copy(update={"bibliography": [*report.bibliography, *extra]})  # 12 relevant cited
    result = score_relevant_recall(report, [*CITED, *UNCITED[:12]])
    assert len(result.found) == 12 and result.recall == 1.0


def test_urls_match_after_normalisation():
    variant = "http://www.en.wikipedia.org/wiki/Printing_press/?utm_source=x"
    assert score_relevant_recall(make_report(), [variant]).found == [variant]


def test_no_relevant_articles_means_no_recall():
    assert score_relevant_recall(make_report(), []).recall is None
