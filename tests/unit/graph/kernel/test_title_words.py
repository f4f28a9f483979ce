"""The title vocabulary the planner's checks and the eval's plan measure share (kernel/title_words.py)."""

import pytest

from nexa_research.evals.plan import is_generic
from nexa_research.kernel.title_words import names_no_subject, names_report_part
from nexa_research.nodes.checks.plan import generic_title


@pytest.mark.parametrize("title", [
    "Introduction", "Background and overview", "Key findings", "Historical significance", "Section 2",
    "Part II", "Main topics covered", "Causes and consequences", "Description", "Final thoughts", "",
    "Objective of the Report", "Scope and purpose",
])
def test_titles_naming_no_subject(title):
    assert names_no_subject(title)
    assert generic_title(title) and is_generic(title)


@pytest.mark.parametrize("title", [
    "Gutenberg's workshop", "Impact on literacy", "History of movable type", "World War II", "Louis XIV",
    "VACUUM: Description", "Executive branch of the federal government", "Goals of the Apollo program",
])
def test_titles_naming_a_subject(title):
    assert not names_no_subject(title)


def test_a_report_part_anywhere_in_a_title_is_furniture_but_an_angle_is_not():
    assert names_report_part("Overview of the Mongol Empire") and names_report_part("Key findings")
    assert not names_report_part("Causes of the Black Death") and not names_report_part("Executive power")


@pytest.mark.parametrize("title", [
    "Introduction", "Summary of the findings", "Key findings", "Main topics covered", "Section 2", "Description",
    "Historical significance", "Causes in 1929", "Part II", "Final thoughts",
])
def test_the_planner_never_keeps_a_title_the_eval_counts_as_generic(title):
    # one vocabulary: whatever the eval would count against a plan, the planner's check rejects first
    assert is_generic(title) <= generic_title(title)
    assert generic_title(title)
