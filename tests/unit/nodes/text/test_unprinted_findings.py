"""Sections too short to give a sentence up: the summary, introduction and conclusion state what the cited
passages say that no section printed, instead of describing the report. Real MiniLM relevance."""

from __future__ import annotations

import re

import pytest

from nexa_research.nodes.collator import checked_narrative, gathered_uncited
from nexa_research.nodes.text.citations import EXTRA_NUMBERS, BibliographyBuilder
from nexa_research.nodes.text.unprinted_findings import unprinted_findings
from nexa_research.providers import make_source
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.report import ReportSection

TOPIC = "The Hanseatic League and trade in medieval northern Europe"
HANSA = (
    "The Hanseatic League was a medieval commercial and defensive network of merchant guilds and market towns in "
    "Northern Europe. Growing from Lübeck and a few other North German towns, the league expanded between the 13th "
    "and 15th centuries. Hanseatic merchants traded timber, furs, wax, grain and fish from the Baltic to the markets "
    "of Flanders and England. It had its own legal system and armies. Merchants of the Hansa lived by Hanseatic "
    "law in trading offices called Kontors at Bergen, London, Bruges and Novgorod. The Hieronymus Bosch "
    "exhibition of 2016 drew many visitors to the Netherlands."
)
NOVGOROD = (
    "The Novgorod Republic was a medieval state in northwestern Russia. The republic prospered as the easternmost "
    "trading post of the Hanseatic League. Furs and wax from the Russian forests were the chief exports of Novgorod "
    "to the Hanseatic towns of the Baltic. Its people were much influenced by the culture of the Byzantines."
)
PRINTED = [
    "The Hanseatic League was a medieval commercial and defensive network of merchant guilds and market towns in "
    "Northern Europe [1]. Growing from Lübeck and a few other North German towns, the league expanded between the "
    "13th and 15th centuries [1].",
    "The Novgorod Republic was a medieval state in northwestern Russia [2]. The republic prospered as the easternmost "
    "trading post of the Hanseatic League [2].",
]


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+", text) if s]


def test_two_short_sections_get_findings_up_front_from_their_sources_unprinted_sentences(relevance):
    sections = [ReportSection(index=i, title=t, content=c, status="done", iterations=1, queries=[])
                for i, (t, c) in enumerate(zip(["Origins", "Novgorod"], PRINTED, strict=True))]
    out = checked_narrative(relevance, None, TOPIC, sections, [(1, HANSA), (2, NOVGOROD)])
    up_front = [out.executive_summary, out.introduction, out.conclusion]
    assert all(part and "report" not in part.lower() for part in up_front)
    body = " ".join(PRINTED)
    for sentence in sentences(" ".join(up_front)):
        cited = re.search(r"\[(\d)\]\.$", sentence)
        assert cited, sentence
        bare = re.sub(r" \[\d\]\.$", ".", sentence)
        assert bare in (HANSA if cited.group(1) == "1" else NOVGOROD)  # the source's own words, under its number
        assert bare not in body  # nothing a section printed
    assert "It had its own" not in " ".join(up_front)  # leans on the sentence before it
    assert "Its people" not in " ".join(up_front)
    assert "Bosch" not in " ".join(up_front)  # not about the topic
    assert sections[0].content == PRINTED[0] and sections[1].content == PRINTED[1]  # the sections keep everything


def test_sentences_are_handed_out_once_from_different_sources_first(relevance):
    found = unprinted_findings(relevance, TOPIC, [(1, HANSA), (2, NOVGOROD)], PRINTED)
    first = found.take(2)
    assert re.search(r"\[1\]", first) and re.search(r"\[2\]", first)
    rest = found.take(10)
    assert not set(sentences(first)) & set(sentences(rest))


def test_nothing_unprinted_leaves_the_parts_empty_when_no_section_can_give_a_sentence(relevance):
    """No sentence about the report stands in: the part is empty and the section keeps its one sentence."""
    one = PRINTED[0].split(" [1]. ")[0] + " [1]."
    sections = [ReportSection(index=0, title="Origins", content=one, status="done", iterations=1, queries=[])]
    out = checked_narrative(relevance, None, TOPIC, sections, [(1, one.replace(" [1]", ""))])
    assert (out.executive_summary, out.introduction, out.conclusion) == ("", "", "") and sections[0].content == one


def test_as_a_last_resort_a_section_of_two_sentences_gives_one_up(relevance):
    """The Black Death report of the ninth session: four sections of two sentences, every passage printed whole,
    and a summary and conclusion about the report. A finding moves up instead; each section keeps its source."""
    contents = [PRINTED[0], "The Novgorod Republic was a medieval state in northwestern Russia [1]. It prospered as "
                "the easternmost trading post of the Hanseatic League [1]."]
    sections = [ReportSection(index=i, title=t, content=c, status="done", iterations=1, queries=[])
                for i, (t, c) in enumerate(zip(["Hanseatic League", "Novgorod Republic"], contents, strict=True))]
    passages = [(1, re.sub(r" \[\d\]", "", c)) for c in contents]
    out = checked_narrative(relevance, None, TOPIC, sections, passages)
    # two sections of two sentences: two findings to move, the summary's first, then the conclusion's
    assert not re.search(r"\b(?:report|sections?)\b", out.executive_summary + out.conclusion), out
    assert "[1]" in out.executive_summary and "[1]" in out.conclusion
    for section in sections:
        assert "[1]" in section.content  # still cites its source


def test_a_sentence_printed_glued_to_the_next_is_not_offered_again(relevance):
    """No sentence break is read before "(": the section's sentence and its long aside compare as one sentence,
    too unlike the short one for the duplicate cut-off, yet the short one is printed word for word."""
    traded = ("Hanseatic merchants traded timber, furs, wax, grain and fish from the Baltic to the markets of Flanders "
              "and England")
    aside = ("(for example, the stockfish weighed at the Bergen Kontor came from Lofoten fishermen who sailed south "
             "each spring, the cloth bought at the London Steelyard was dyed in Flanders and shipped to Prussia and "
             "Livonia, and the salt of Lüneburg went by the Stecknitz canal to Lübeck and on to the herring fisheries "
             "of Scania, where each town had its own fenced camp on the shore; the Danish king took a toll at Skanör "
             "and Falsterbo on every barrel, and the Sound itself, narrow between Helsingør and Helsingborg, was "
             "where fleets of Dutch ships later passed the Wendish towns by).")
    glued = f"{PRINTED[0]} {traded} [1]. {aside}"
    offered = unprinted_findings(relevance, TOPIC, [(1, HANSA), (2, NOVGOROD)], [glued, PRINTED[1]]).take(10)
    assert offered and "Hanseatic merchants traded timber" not in offered
    assert "Furs and wax from the Russian forests" in offered  # what no section printed is still offered


LUBECK = (
    "Lübeck is a city in Northern Germany that was the leading city of the Hanseatic League for several centuries. "
    "Lübeck merchants carried salt from Lüneburg to the herring fisheries of Scania on the Baltic. "
    "The Hanseatic towns of the Baltic met at the Hanseatic Diet in Lübeck to settle the league's trade policy. "
    "The Hanseatic League declined in the 16th century as Dutch and English merchants took over the Baltic trade."
)


def test_a_summary_of_one_moved_sentence_is_completed_from_the_unprinted_findings(relevance):
    """Three sections, one of which can spare one sentence: the summary still states three findings."""
    long_section = (f"{PRINTED[0]} Lübeck is a city in Northern Germany that was the leading city of the Hanseatic "
                    "League for several centuries [3]. The Hanseatic towns of the Baltic met at the Hanseatic Diet in "
                    "Lübeck to settle the league's trade policy [3].")
    contents = [long_section, PRINTED[1]]
    sections = [ReportSection(index=i, title=t, content=c, status="done", iterations=1, queries=[])
                for i, (t, c) in enumerate(zip(["Origins", "Novgorod"], contents, strict=True))]
    out = checked_narrative(relevance, None, TOPIC, sections, [(1, HANSA), (2, NOVGOROD), (3, LUBECK)])
    summary = sentences(out.executive_summary)
    assert len(summary) >= 3 and all(re.search(r"\[\d\]\.$", s) for s in summary), out.executive_summary
    up_front = " ".join([out.executive_summary, out.introduction, out.conclusion])
    assert "report" not in up_front.lower()
    assert len(set(sentences(up_front))) == len(sentences(up_front))  # no sentence twice


def test_a_source_gathered_but_printed_nowhere_states_a_finding_and_enters_the_bibliography(relevance):
    """Sections that print every sentence of their cited passages leave nothing unprinted; what the sections
    gathered and printed nothing of (here Lübeck's article) still holds findings, cited under a new number."""
    hansa, novgorod, lubeck = (make_source(url=f"https://en.wikipedia.org/wiki/{t}", title=t, text=x)
                               for t, x in (("Hanseatic_League", PRINTED[0]), ("Novgorod", PRINTED[1]),
                                            ("Lübeck", LUBECK)))
    bib = BibliographyBuilder()
    contents = [bib.renumber_section(PRINTED[0], [hansa]),
                bib.renumber_section(PRINTED[1].replace("[2]", "[1]"), [novgorod, lubeck])]
    paragraphs = [{"index": 0, "status": "done", "research": [hansa]},
                  {"index": 1, "status": "done", "research": [novgorod, lubeck]}]
    extra = gathered_uncited(paragraphs, bib)
    assert [s["title"] for s in extra] == ["Lübeck"]
    sections = [ReportSection(index=i, title=t, content=c, status="done", iterations=1, queries=[])
                for i, (t, c) in enumerate(zip(["Origins", "Novgorod"], contents, strict=True))]
    passages = [(1, PRINTED[0]), (2, PRINTED[1]), (EXTRA_NUMBERS + 1, LUBECK)]
    out = checked_narrative(relevance, None, TOPIC, sections, passages)
    parts = bib.admit_cited([out.executive_summary, out.introduction, out.conclusion], extra)
    assert "[3]" in " ".join(parts) and str(EXTRA_NUMBERS) not in " ".join(parts)
    assert [e["title"] for e in bib.entries] == ["Hanseatic_League", "Novgorod", "Lübeck"]
    assert not any("report" in part.lower() for part in parts)


def test_a_sentence_leaning_by_a_pronoun_for_the_subject_before_it_is_offered_with_the_subject_named(relevance):
    """A Silk Road report's conclusion fell back to "The report stops where its sources stop": the unprinted
    sentence of Lanzhou's passage opened "Historically, it has been ..."."""
    topic = "The Silk Road and trade between China and the Mediterranean world"
    lanzhou = ("Lanzhou, formerly Lanchow, is the capital and largest city of Gansu province in northwestern China. "
               "Historically, it has been a major link on the Northern Silk Road and it stands to become a major hub "
               "on the New Eurasian Land Bridge.")
    printed = ["Lanzhou, formerly Lanchow, is the capital and largest city of Gansu province in northwestern China [1]."]
    found = unprinted_findings(relevance, topic, [(1, lanzhou)], printed).take(2)
    assert found == ("Historically, Lanzhou has been a major link on the Northern Silk Road and it stands to become a "
                     "major hub on the New Eurasian Land Bridge [1].")
    # a plural subject is no antecedent for "Its": Novgorod's "Its people ..." is still not offered
    novgorod = unprinted_findings(relevance, TOPIC, [(2, NOVGOROD)], PRINTED).take(10)
    assert "people were much influenced" not in novgorod


def test_a_sentence_a_section_printed_with_its_pronoun_is_not_offered_again_with_the_subject_named(relevance):
    """An Apollo report's summary held "Neil Alden Armstrong was also a naval aviator, test pilot and university
    professor [9]." while the Neil Armstrong section printed the passage's own "He was also ..."."""
    topic = "The Apollo program and the first crewed Moon landings"
    armstrong = ("Neil Alden Armstrong was an American astronaut and aeronautical engineer who, as the commander of "
                 "the 1969 Apollo 11 mission, became the first person to walk on the Moon. He was also a naval "
                 "aviator, test pilot and university professor.")
    printed = ["Neil Alden Armstrong was an American astronaut and aeronautical engineer who, as the commander of "
               "the 1969 Apollo 11 mission, became the first person to walk on the Moon [9]. He was also a naval "
               "aviator, test pilot and university professor [9]."]
    assert unprinted_findings(relevance, topic, [(9, armstrong)], printed).take(3) == ""
    # not printed, it is offered with the subject written out, as before
    first = printed[0].split(" He was")[0]
    assert "Neil Alden Armstrong was also a naval aviator" in unprinted_findings(
        relevance, topic, [(9, armstrong)], [first]).take(3)
