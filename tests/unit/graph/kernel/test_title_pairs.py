"""One rule for two titles saying the same thing, read by the planner's check and the eval's plan measure
(kernel/title_pairs.py), on real MiniLM scores."""

from __future__ import annotations

import pytest

from nexa_research.evals.plan import score_plan
from nexa_research.evals.similarity import Similarity
from nexa_research.kernel.title_pairs import duplicate_title_pairs, title_key
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.report import Report, ReportMetadata, ReportSection

AMAZON = "The Amazon River and its rainforest"


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def test_two_parts_the_topic_names_are_two_subjects(relevance):
    """An eval run refused the plan "The Amazon River", "The Amazon Rainforest", ... (0.77 as wholes, above the
    0.757 cut-off) and built one from the corpus instead. Each names a part of the topic the other lacks: the words
    apart are compared ("river" / "rainforest", 0.38). Two titles of one part stay one subject."""
    cut = relevance.thresholds.duplicate_title
    titles = ["The Amazon River", "The Amazon Rainforest", "Manaus"]
    assert relevance.similarity(titles[:1], titles[1:2])[0, 0] >= cut
    assert duplicate_title_pairs(titles, AMAZON, relevance.similarity, cut) == []
    assert duplicate_title_pairs(["The Amazon River", "Amazon River"], AMAZON, relevance.similarity, cut) == [(0, 1)]
    assert duplicate_title_pairs(
        ["The Amazon Rainforest", "The Amazon rain forest"], AMAZON, relevance.similarity, cut
    ) == [(0, 1)]


def test_the_eval_counts_the_pairs_the_planner_refuses(relevance):
    """The eval compared whole titles and counted "Causes of the Black Death" / "Effects of the Black Death" (one
    long shared subject) that the planner had checked and kept; it now counts by the planner's rule, numbering
    and "The" aside."""
    assert title_key("2. The Silk Road") == title_key("Silk Road")
    topic = "The Black Death in fourteenth-century Europe"
    titles = ("Causes of the Black Death", "Effects of the Black Death", "The Seventh Seal", "Seventh Seal")
    report = Report(
        title=topic,
        topic=topic,
        executive_summary="s",
        introduction="i",
        conclusion="c",
        sections=[ReportSection(index=i, title=t, content="Text.", status="done") for i, t in enumerate(titles)],
        bibliography=[],
        metadata=ReportMetadata(topic=topic, created_at="2026-01-01T00:00:00+00:00"),
    )
    plan = score_plan(report, Similarity(default_embedder()), relevance.thresholds.duplicate_title, 0.5)
    assert [(p.first, p.second) for p in plan.duplicate_titles] == [("The Seventh Seal", "Seventh Seal")]
