"""The run's Markdown shows both recalls, sources per section, self-references, sections printed against asked and
the informational word target, and lists the items behind each lost point."""

from __future__ import annotations

import pytest

from nexa_research.evals import score_report
from nexa_research.evals.history import make_run
from nexa_research.evals.similarity import Similarity
from nexa_research.evals.table import run_markdown
from nexa_research.evals.thresholds import load_thresholds
from nexa_research.providers.kb.ingest import wikipedia_url
from support.eval_reports import EXPECTED, make_report

RELEVANT = [wikipedia_url(t) for t in ("Printing press", "Johannes Gutenberg", "Printing", "Book", "Paper")]


@pytest.fixture(scope="module")
def markdown() -> str:
    report = make_report(summary="Each of the three sections below draws on its own sources [1].")
    result = score_report(report, expect_urls=EXPECTED, relevant_urls=RELEVANT, sections_asked=5,
                          similarity=Similarity())
    run = make_run([result], command={"command": "score"}, thresholds=load_thresholds(), run_id="r",
                   checkout=("abc", False))
    return run_markdown(run, [result])


def test_targets_show_the_new_measures_with_their_goals(markdown):
    assert "| expected-source recall (mean) | 100% | >= 2/3 | ✅ pass |" in markdown
    assert "| relevant-source recall (mean; found / min(10, relevant)) | 60% | >= 60% | ✅ pass |" in markdown
    assert "| distinct on-topic sources per section (mean) | 1.0 over 3 sections | >= 3 | ❌ fail |" in markdown
    assert "| self-references in summary, introduction, conclusion | 2 in 3 sentences | 0 | ❌ fail |" in markdown
    assert "| all (informational) | ❌ fail |" in markdown
    assert "| sections printed | 3 of 5 asked (60%) | - | |" in markdown
    assert "| framing sentences cited and supported |" in markdown


def test_topic_row_shows_both_recalls_and_sections_against_asked(markdown):
    row = next(line for line in markdown.splitlines() if line.startswith("| The history of the printing press |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "3/5 asked" and cells[6:10] == ["100%", "60%", "1.0", "2"]


def test_findings_list_self_references_missing_relevant_sources_and_thin_sections(markdown):
    assert "- self-references (2):\n  - parts, summary: \"Each of the three sections below" in markdown
    assert "  - document, introduction: \"This report follows" in markdown
    assert f"- relevant sources not cited (2):\n  - {RELEVANT[3]}\n  - {RELEVANT[4]}" in markdown
    assert "- sections with fewer than 3 on-topic sources (3):" in markdown
