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


def test_an_editor_finding_that_restates_a_printed_sentence_with_its_pronoun_written_out_is_not_kept():
    """An Olympic Games report's conclusion was the editor's "The ancient Olympic Games, or the ancient Olympics,
    continue to be celebrated when Greece came under Roman rule ..." under the section's "They continued to be
    celebrated when Greece came under Roman rule ..." (0.77 apart, under the duplicate cut-off)."""
    from nexa_research.nodes.text.narrative import findings, section_evidence
    from nexa_research.providers.kb.embeddings import default_embedder
    from nexa_research.providers.relevance import EmbeddingRelevance

    section = ("The ancient Olympic Games were a series of athletic competitions among representatives of "
               "city-states of ancient Greece [1]. They continued to be celebrated when Greece came under Roman rule "
               "in the 2nd century BC [1].")
    evidence = section_evidence([section])
    printed = [e.text for e in evidence]
    relevance = EmbeddingRelevance(default_embedder())
    restated = ("The ancient Olympic Games, or the ancient Olympics, continue to be celebrated when Greece came under "
                "Roman rule in the 2nd century BC.")
    assert findings(relevance, restated, evidence, list(printed)) == ""
    # a finding that joins what two printed sentences say restates neither: it stays, cited
    joined = "The ancient Olympic Games of ancient Greece were celebrated until Roman rule."
    assert findings(relevance, joined, evidence, list(printed)).endswith("[1].")
