"""The summary's sentences spread to an empty introduction or conclusion (nodes/text/narrative.py)."""

from __future__ import annotations

from nexa_research.nodes.text.narrative import spread_summary

PENICILLIN = ("Most penicillins in clinical use are synthesised by P. chrysogenum using deep tank fermentation [1]. "
              "Antibiotics are not effective against viruses or fungi [2]. "
              "Sir Alexander Fleming was a Scottish physician and microbiologist [3].")


def test_an_empty_conclusion_takes_the_summary_s_last_sentence():
    # a penicillin report's three findings all went to the summary and its conclusion was about the report
    summary, introduction, conclusion = spread_summary(PENICILLIN, "Eight species of Penicillium produce it [1].", "")
    assert conclusion == "Sir Alexander Fleming was a Scottish physician and microbiologist [3]."
    assert summary.endswith("viruses or fungi [2].") and introduction == "Eight species of Penicillium produce it [1]."


def test_the_summary_keeps_one_sentence_and_full_parts_are_left_alone():
    summary, introduction, conclusion = spread_summary(PENICILLIN, "", "")
    assert [summary.count("["), introduction.count("["), conclusion.count("[")] == [1, 1, 1]
    assert introduction.startswith("Antibiotics are not effective")
    one = "Antibiotics are not effective against viruses or fungi [2]."
    assert spread_summary(one, "", "") == (one, "", "")
    assert spread_summary(PENICILLIN, "A.", "B.") == (PENICILLIN, "A.", "B.")
