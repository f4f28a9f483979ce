"""Introduction, summary and conclusion state findings: the sections' own key sentences, moved up in code
(nodes/text/key_findings.py), never a sentence about the report. Real MiniLM relevance."""

from __future__ import annotations

import re

import pytest

from nexa_research.nodes.text.key_findings import MIN_LEFT, lift_key_findings, lift_last_resort
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance

TOPIC = "The discovery of penicillin and the development of antibiotics"
FLEMING = (
    "Sir Alexander Fleming was a Scottish physician and microbiologist [1]. He discovered benzylpenicillin in 1928 "
    "at St Mary's Hospital in London [1]. Fleming shared the 1945 Nobel Prize in Physiology or Medicine for the "
    "discovery of penicillin [1].\n\n"
    "Howard Florey was an Australian pharmacologist who led the team that turned penicillin into a drug [2]. "
    "Florey and Ernst Chain purified penicillin at Oxford in 1940 [2]."
)
ANTIBIOTICS = (
    "An antibiotic is a type of antimicrobial substance active against bacteria [3]. Antibiotics are widely used "
    "in the treatment and prevention of bacterial infections [3]. They may either kill or inhibit the growth of "
    "bacteria [3].\n\n"
    "Antimicrobial resistance occurs when microbes evolve mechanisms that protect them from antibiotics [4]. "
    "The misuse of antibiotics speeds the spread of resistant bacteria [4]."
)


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+", text.replace("\n\n", " ")) if s]


def test_key_sentences_move_up_cited_and_leave_no_copy_behind(relevance):
    lifted = lift_key_findings(relevance, TOPIC, ["Discovery of penicillin", "Antibiotics"], [FLEMING, ANTIBIOTICS])
    up_front = sentences(f"{lifted.introduction} {lifted.summary} {lifted.conclusion}")
    assert lifted.introduction and lifted.summary
    assert all(re.search(r"\[\d+\]\.$", s) for s in up_front)  # every sentence cited
    body = " ".join(lifted.contents)
    for sentence in up_front:  # moved, not copied
        assert sentence in FLEMING + ANTIBIOTICS and sentence not in body
    assert not any(re.search(r"\b(?:report|section)s?\b", s, re.I) for s in up_front)


def test_a_sentence_that_leans_or_is_leaned_on_stays_in_its_section(relevance):
    lifted = lift_key_findings(relevance, TOPIC, ["Discovery of penicillin", "Antibiotics"], [FLEMING, ANTIBIOTICS])
    up_front = f"{lifted.introduction} {lifted.summary} {lifted.conclusion}"
    assert "He discovered" not in up_front and "They may" not in up_front
    assert "Scottish physician" not in up_front  # "He discovered ..." leans on it
    for before, after in zip([FLEMING, ANTIBIOTICS], lifted.contents, strict=True):
        assert len(sentences(after)) >= MIN_LEFT
        assert set(re.findall(r"\[\d+\]", after)) == set(re.findall(r"\[\d+\]", before))  # no source leaves


def test_a_short_section_gives_nothing_up(relevance):
    short = "Penicillin was discovered in 1928 by Alexander Fleming [1]. It was mass-produced from 1942 [1]."
    lifted = lift_key_findings(relevance, TOPIC, ["Penicillin"], [short])
    assert lifted.contents == [short] and not lifted.summary and not lifted.introduction


def test_a_definite_description_keeps_its_antecedent_and_a_summary_comes_from_the_leading_source(relevance):
    """From `make run` on the Egyptian pyramids: the introduction took "The Pharaoh was the monarch of ancient Egypt"
    and left "The title came into use ..." opening its paragraph; the summary took "Before this Pharaoh was a term
    ..." and a Mesoamerican pyramid's sentence for the section on Egyptian architecture."""
    pharaoh = ("The Pharaoh was the monarch of ancient Egypt [1]. The title came into use from the Eighteenth Dynasty "
               "onwards [1]. Before this Pharaoh was a term that meant the royal palace itself [1]. Pharaohs were "
               "buried in pyramids during the Old Kingdom of Egypt [1].")
    architecture = ("Ancient Egyptian architecture is a set of styles that lasted three thousand years [2]. Religious "
                    "and funerary architecture is most of what survives of it today [2].\n\n"
                    "Mesoamerican architecture is best known for its pyramids, the largest outside Ancient Egypt [3]. "
                    "Pyramids of Mesoamerica were temple platforms built by many cultures [3].")
    lifted = lift_key_findings(relevance, "Ancient Egyptian pyramids and the pharaohs who built them",
                               ["Pharaohs", "Ancient Egyptian architecture"], [pharaoh, architecture])
    up_front = f"{lifted.introduction} {lifted.summary} {lifted.conclusion}"
    assert "The Pharaoh was the monarch" not in up_front and "The title came" not in up_front
    assert "Before this" not in up_front and "Mesoamerican" not in lifted.summary


BLACK_DEATH = (
    "The Black Death was a plague pandemic that occurred in Europe from 1346 to 1353 [1]. It was one of the most "
    "fatal pandemics in human history, leading to the death of up to 50 million people [1]. The disease was caused "
    "by the bacterium Yersinia pestis, which is primarily spread by flea bites [1]."
)


def test_a_definition_moves_up_and_the_pronoun_after_it_is_written_out(relevance):
    """The Black Death report of the reader checks: its one passage is a chain ("It was ...", "The disease ..."),
    so nothing could move and the introduction was a sentence about the report. The definition moves up, and the
    "It" after it becomes the subject the definition named."""
    lifted = lift_key_findings(relevance, "The Black Death in fourteenth-century Europe", ["Black Death"], [BLACK_DEATH],
                               summary=False, conclusion=False)
    assert lifted.introduction == "The Black Death was a plague pandemic that occurred in Europe from 1346 to 1353 [1]."
    assert lifted.contents[0].startswith("The Black Death was one of the most fatal pandemics in human history")
    assert "The disease was caused" in lifted.contents[0]  # a definite description is not rewritten; it stays put


def test_a_summary_of_findings_when_no_leading_passage_can_spare_a_sentence(relevance):
    """`make run` on the printing press: the one section's leading passage is a chain ("A printing press is ...",
    "It marked ...", "The invention ..."), so the summary fell back to "This report examines ... in 1 section"."""
    section = (
        "A printing press is a machine that transfers ink onto paper by applying pressure to an inked surface [1]. "
        "It marked a major advance on earlier methods of printing by hand [1]. The invention of the press transformed "
        "book production in early modern Europe [1].\n\n"
        "Printing is a process for mass reproducing text and images using a master form or template [2]. The earliest "
        "known form of printing evolved from ink rubbings made on paper from texts on stone tablets [2]. Printing by "
        "pressing an inked image onto paper appeared in China in the sixth century [2].\n\n"
        "Johannes Gutenberg was a German inventor who introduced movable-type printing to Europe around 1440 [3]. "
        "Gutenberg's invention of the printing press enabled a much faster rate of printing than before [3]. The "
        "printing press spread across Europe and led to an information revolution [3]."
    )
    lifted = lift_key_findings(relevance, "The history of the printing press", ["Johannes Gutenberg"], [section])
    assert lifted.summary, "a summary of findings, not a sentence about the report"
    assert all(s in section for s in sentences(lifted.summary))
    assert all(s not in lifted.contents[0] for s in sentences(lifted.summary))  # moved, not copied
    assert not lifted.summary.startswith(("It ", "The invention"))


def test_a_sentence_leaning_only_by_a_pronoun_for_the_subject_before_it_moves_with_the_subject_named(relevance):
    """A Silk Road report's conclusion fell back to a sentence about the report: every closing sentence leaned
    ("Historically, it has been a major link on the Northern Silk Road"). Written out, it reads on its own."""
    lanzhou = ("Lanzhou, formerly Lanchow, is the capital and largest city of Gansu province in northwestern China [1]. "
               "Historically, it has been a major link on the Northern Silk Road [1].")
    silk = ("The Silk Road was a network of Asian trade routes active from the second century BCE [2]. "
            "Spanning over 6,400 km (4,000 mi) on land, it carried silk, spices and ideas between East and West [2]. "
            "Caravans crossed the deserts of Central Asia between oasis cities such as Samarkand and Kashgar [2].")
    lifted = lift_key_findings(relevance, "The Silk Road and trade between China and the Mediterranean world",
                               ["Silk Road", "Lanzhou"],
                               [silk, lanzhou + " Lanzhou lies on the Yellow River, where the Hexi Corridor begins [1]."])
    up_front = f"{lifted.introduction} {lifted.summary} {lifted.conclusion}"
    assert "Historically, Lanzhou has been a major link on the Northern Silk Road" in up_front
    assert not re.search(r"(?:^|\. )(?:[^.]{0,60}, )?(?:it|he|she|they)\b", up_front, re.I)  # no pronoun for nothing
    # "Spanning ... 6,400 km ..., it carried" leans on the definition: the definition does not leave it behind
    assert "The Silk Road was a network" not in up_front or "on land, the Silk Road carried" in lifted.contents[0]


def test_a_pronoun_written_out_into_a_restatement_of_the_definition_keeps_the_definition_in_place(relevance):
    """A transistor report's introduction took the Electronics article's definition and wrote out the "It" of
    the next sentence: "Electronics is a subfield of physics ..." stayed behind, a near-duplicate of it (0.88)."""
    electronics = (
        "Electronics is a scientific and engineering discipline that studies and applies the principles of physics "
        "to design, create, and operate devices that manipulate electrons and other electrically charged particles "
        "[1]. It is a subfield of physics and electrical engineering which uses active devices such as transistors, "
        "diodes, and integrated circuits to control and amplify the flow of electric current [1]. Silicon is widely "
        "used as a semiconductor material in transistors, solar cells, and integrated circuits [1].")
    lifted = lift_key_findings(relevance, "The invention of the transistor and the integrated circuit",
                               ["Electronics"], [electronics], summary=False, conclusion=False)
    assert "Electronics is a scientific" not in lifted.introduction
    assert "Electronics is a subfield" not in lifted.contents[0]


def test_the_sentence_that_ties_a_passage_to_its_section_stays_with_it(relevance):
    """An Apollo report's conclusion took "His presidency saw ... the Apollo 11 Moon landing" and left the Apollo 11
    section "Richard Milhous Nixon was the 37th president of the United States ..." alone."""
    apollo = ("Apollo 11 was the American spaceflight that first landed humans on the Moon, and the fifth crewed "
              "mission of NASA's Apollo program [1]. The mission was crewed by Commander Neil Armstrong, Command "
              "Module Pilot Michael Collins, and Lunar Module Pilot Edwin \"Buzz\" Aldrin [1].\n\n"
              "Richard Milhous Nixon was the 37th president of the United States, serving from 1969 until his "
              "resignation in 1974 [2]. His presidency saw the reduction of U.S. involvement in the Vietnam War, "
              "détente with the Soviet Union and China, the Apollo 11 Moon landing, and the establishment of the "
              "Environmental Protection Agency [2].")
    lifted = lift_key_findings(relevance, "The Apollo program and the first crewed Moon landings", ["Apollo 11"],
                               [apollo], summary=False, introduction_too=False)
    assert "Apollo 11 Moon landing" in lifted.contents[0] and "Nixon" not in lifted.conclusion


def test_a_passage_stays_tied_by_the_sentence_naming_its_section_under_a_broad_topic(relevance):
    """A Civil War report's last resort moved "During the American Civil War, Harriet Tubman served ..." into the
    conclusion and left "Harriet Tubman was an American abolitionist and social activist" alone under "American
    Civil War": against "American Civil War (... abolition of slavery)" both sentences are above the section
    floor, so only the one naming the section's title ties her passage to it."""
    war = ("The American Civil War was a civil war in the United States between the Union and the Confederacy, "
           "which was formed in 1861 by states that had seceded from the Union to preserve slavery [1].\n\n"
           "Harriet Tubman was an American abolitionist and social activist [2]. During the American Civil War, "
           "Tubman served as an armed scout and spy for the Union Army [2].")
    topic = "The American Civil War and the abolition of slavery"
    lifted = lift_last_resort(relevance, topic, ["American Civil War"], [war], summary="A finding [1].",
                              introduction="Another finding [1].", conclusion="")
    assert "armed scout" in lifted.contents[0] and "armed scout" not in lifted.conclusion
