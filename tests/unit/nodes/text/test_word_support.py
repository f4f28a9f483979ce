"""A small model's own sentences (a section's lead, the editor's introduction and findings) stay only when they
say what the sources say, in the sources' words. Each example is a sentence read in an eval report."""

from __future__ import annotations

import pytest

from nexa_research.nodes.text.narrative import Evidence
from nexa_research.nodes.text.word_support import FINDING_SHARE, LEAD_SHARE, content_stems, words_from
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance

MADEIRA = ("The Madeira River is a major waterway in South America. The Madeira is the biggest tributary of the "
           "Amazon, accounting for about 15% of the water in the basin.")
PENICILLIN = [
    Evidence("He shared the 1945 Nobel Prize in Physiology or Medicine for the discovery of penicillin.", "[1]"),
    Evidence("Penicillins were among the first medications to be effective against many bacterial infections.", "[2]"),
    Evidence("Many types of bacteria have developed resistance following extensive use.", "[2]"),
    Evidence("A limited number of antibiotics also possess antiprotozoal activity.", "[3]"),
]


def test_a_lead_that_swaps_in_another_subject_is_not_the_sources():
    stems = content_stems(MADEIRA)
    assert not words_from("The Amazon River and its rainforest is a major waterway in South America.", stems,
                          LEAD_SHARE, same_subject=True)
    assert words_from("The Madeira River, the biggest tributary of the Amazon, is a major waterway in South America.",
                      stems, LEAD_SHARE, same_subject=True)


def test_a_finding_may_draw_facts_together_but_not_add_claims():
    stems = content_stems("After the Black Death killed so many peasants, labour became scarce across Europe. Surviving "
                          "workers demanded higher wages, and serfdom declined in Western Europe.")
    assert words_from("The Black Death reshaped labour in Europe, as wages rose and serfdom declined.", stems, FINDING_SHARE)
    antibiotics = content_stems(" ".join(e.text for e in PENICILLIN))
    assert not words_from("Antibiotics have become an essential part of modern medicine and have revolutionized the "
                          "treatment and prevention of many infections.", antibiotics, FINDING_SHARE)


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def test_the_introduction_states_a_finding_not_the_editors_framing(relevance):
    """The editor's introduction ("This report covers ...") is not printed: the introduction is the sentence of
    the sections that defines the subject, moved up and cited (nodes/text/key_findings.py)."""
    from nexa_research.nodes.collator import CollatorOutput, checked_narrative
    from nexa_research.report import ReportSection

    topic = "The discovery of penicillin and the rise of antibiotics"
    content = ("Penicillin is a group of antibiotics first obtained from Penicillium moulds [1]. Alexander Fleming "
               "discovered penicillin in 1928 [1]. Penicillins were among the first medications effective against "
               "many bacterial infections [1]. Many types of bacteria have developed resistance following "
               "extensive use [1].")
    sections = [ReportSection(index=0, title="Penicillin", content=content, status="done", iterations=1, queries=[])]
    narrative = CollatorOutput(executive_summary="This report covers penicillin and antibiotics in one section.",
                               introduction="This report covers the discovery of penicillin and the rise of antibiotics.",
                               transitions=[], conclusion="This report covers penicillin and antibiotics.")
    checked = checked_narrative(relevance, narrative, topic, sections)
    assert "This report" not in checked.introduction and checked.introduction.endswith("[1].")
    assert checked.introduction not in sections[0].content  # moved, not copied


def test_the_introduction_does_not_repeat_the_summary_printed_above_it(relevance):
    """From the eval's steam engine report: the plain summary (now left empty) (the model's was unsupported) said "This report
    examines the steam engine and the Industrial Revolution in 4 sections: ..." and the model's introduction "This
    report covers the steam engine and the Industrial Revolution, focusing on ..." (0.86)."""
    from nexa_research.nodes.collator import CollatorOutput, checked_narrative
    from nexa_research.report import ReportSection

    topic = "The steam engine and the Industrial Revolution"
    titles = ["Steam Turbine", "Industrial Revolution", "James Watt", "Charles Algernon Parsons"]
    sections = [ReportSection(index=i, title=t, content=f"{t} was important in the history of steam power [1].",
                              status="done", iterations=1, queries=[]) for i, t in enumerate(titles)]
    narrative = CollatorOutput(
        executive_summary="Aliens from Mars built the first steam engine in the year 3000 on the Moon.",
        introduction="This report covers the steam engine and the Industrial Revolution, focusing on their origins, "
                     "evolution, and impact on society.",
        transitions=[], conclusion="Aliens from Mars built the first steam engine in the year 3000 on the Moon.")
    checked = checked_narrative(relevance, narrative, topic, sections)
    # nothing supported, nothing to spare: every part is empty, none is a sentence about the report
    assert (checked.executive_summary, checked.introduction, checked.conclusion) == ("", "", "")
