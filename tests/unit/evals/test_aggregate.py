"""The run's figures for the issue-17 measures: pooled over sections and framing sentences, targets that can fail,
an informational word target that never fails a run, and history lines written before these measures still read."""

from __future__ import annotations

import json

import pytest

from nexa_research.evals import score_report
from nexa_research.evals.aggregate import aggregate, informational_results, target_results
from nexa_research.evals.history import make_run, read_runs
from nexa_research.evals.similarity import Similarity
from nexa_research.evals.table import history_markdown
from nexa_research.evals.thresholds import load_thresholds
from nexa_research.providers.kb.ingest import wikipedia_url
from support.eval_reports import EXPECTED, make_report

CITED = [wikipedia_url(t) for t in ("Printing press", "Johannes Gutenberg", "Printing")]
UNCITED = [wikipedia_url("Book"), wikipedia_url("Paper")]
THREE = ("Johannes Gutenberg was a German craftsman who invented the movable-type printing press [2]. "
         "A printing press transfers ink onto paper or cloth by pressing an inked surface against it [1]. "
         "The earliest printing used ink rubbings taken from texts carved on stone tablets [3].")
FINDING = "A printing press transfers ink onto paper or cloth by applying pressure to an inked surface [1]."


@pytest.fixture(scope="module")
def similarity() -> Similarity:
    return Similarity()


def _score(report, similarity, relevant):
    return score_report(report, expect_urls=EXPECTED, relevant_urls=relevant, sections_asked=5, similarity=similarity)


@pytest.fixture(scope="module")
def thin(similarity):
    """make_report as it is: one source a section, a self-referential introduction, 3 of 5 sections."""
    return _score(make_report(), similarity, [*CITED[:2], *UNCITED, wikipedia_url("Literacy")])


@pytest.fixture(scope="module")
def deep(similarity):
    """Three on-topic sources in each section, findings in every framing part, relevant recall exactly 60%."""
    report = make_report([(f"Part {n}", THREE, "") for n in (1, 2, 3)], summary=FINDING)
    report = report.model_copy(update={"introduction": FINDING, "conclusion": FINDING})
    return _score(report, similarity, [*CITED, *UNCITED])


def test_thin_report_fails_the_new_targets(thin):
    agg = aggregate([thin])
    assert agg.relevant_recall_mean == pytest.approx(2 / 5)
    assert agg.sections_scored == 3 and agg.sources_per_section == 1.0
    assert agg.self_references == 1 and agg.framing_sentences == 3
    assert agg.framing_supported == pytest.approx(2 / 3)  # summary and conclusion cite and are supported
    assert (agg.sections_printed, agg.sections_asked, agg.words_goal_met) == (3, 5, 0.0)
    met = target_results(agg)
    assert (met["relevant_recall_mean"], met["sources_per_section"], met["self_references"]) == (False, False, False)


def test_deep_report_meets_them(deep):
    agg = aggregate([deep])
    assert agg.relevant_recall_mean == pytest.approx(0.6) and agg.sources_per_section == 3.0
    assert agg.self_references == 0 and agg.framing_supported == 1.0
    met = target_results(agg)
    assert (met["relevant_recall_mean"], met["sources_per_section"], met["self_references"]) == (True, True, True)


def test_the_word_target_is_informational(thin, deep):
    agg = aggregate([thin, deep])
    assert "words_goal_met" not in target_results(agg)
    assert informational_results(agg) == {"words_goal_met": False}
    assert agg.sources_per_section == pytest.approx((3 * 1 + 3 * 3) / 6)  # pooled over the six sections


def test_history_lines_written_before_these_measures_still_read(thin, tmp_path):
    run = make_run([thin], command={"command": "score"}, thresholds=load_thresholds(), run_id="new", checkout=("abc", False))
    line = json.loads(run.model_dump_json())
    for key in ("relevant_recall_mean", "sections_scored", "sources_per_section", "self_references",
                "framing_sentences", "framing_supported", "sections_asked", "sections_printed", "words_goal_met"):
        del line["aggregate"][key]
    for key in ("relevant_recall", "sources_per_section", "self_references", "framing_supported", "sections_asked",
                "sections_printed"):
        del line["topics"][0][key]
    del line["informational"]
    line["run_id"] = "old"
    for key in ("relevant_recall_mean", "sources_per_section", "self_references", "words_goal_met"):
        line["targets"].pop(key, None)
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps(line) + "\n" + run.model_dump_json() + "\n", encoding="utf-8")
    old, new = read_runs(path)
    assert old.aggregate.relevant_recall_mean is None and old.informational == {}
    table = history_markdown({"group": [old, new]})
    assert "| old | abc | 1 | 0 |" in table and "| – | – | 0 |" in table and "| 40% | 1.0 | 1 |" in table
