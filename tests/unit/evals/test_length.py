"""Sections printed are set against sections asked (the run's request, else the report's fixed config), and a
report's word goal is 200 words per section asked."""

from __future__ import annotations

from nexa_research.evals.length import score_length, sections_asked_by
from nexa_research.report import ReportSection
from support.eval_reports import make_report


def _with_config(**config):
    report = make_report()
    return report.model_copy(update={"metadata": report.metadata.model_copy(update={"config": config})})


def test_sections_asked_come_from_a_fixed_config():
    assert sections_asked_by(_with_config(min_sections=5, max_sections=5)) == 5
    assert sections_asked_by(_with_config(min_sections=3, max_sections=7)) is None
    assert sections_asked_by(_with_config()) is None


def test_the_runs_request_wins_over_the_config():
    length = score_length(_with_config(min_sections=4, max_sections=4), sections_asked=5)
    assert length.sections_asked == 5 and length.sections_printed == 3
    assert length.sections_share == 3 / 5 and length.words_goal == 1000


def test_missing_and_empty_sections_are_not_printed():
    report = _with_config(min_sections=5, max_sections=5)
    sections = [*report.sections, ReportSection(index=3, title="Lost", content="", status="missing", error="x"),
                ReportSection(index=4, title="Bare", content="[1]", status="done")]
    length = score_length(report.model_copy(update={"sections": sections}))
    assert length.sections_printed == 3 and length.sections_asked == 5 and length.sections_share == 0.6


def test_without_a_request_there_is_no_share_and_no_goal():
    length = score_length(make_report())
    assert length.sections_asked is None and length.sections_share is None and length.words_goal is None
