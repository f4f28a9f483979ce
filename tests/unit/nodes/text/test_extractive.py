"""Sections are their sources' passages (nodes/text/extractive.py): whole, in order, cited; a sentence that leans
on the one before it comes with it. Real MiniLM relevance."""

from __future__ import annotations

import pytest

from nexa_research.nodes.text.extractive import Candidate, candidates, cite, extract_section, passage
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.state import new_paragraph

FLEMING = (
    "Sir Alexander Fleming was a Scottish physician and microbiologist, best known for discovering the world's first "
    "broadly effective antibiotic substance. He discovered benzylpenicillin in 1928 at St Mary's Hospital in London. "
    "His discovery of penicillin marked the start of modern antibiotics. He shared the 1945 Nobel Prize in "
    "Physiology or Medicine with Howard Florey and Ernst Chain for the discovery of penicillin."
)
PENICILLIN = (
    "Penicillins are a group of beta-lactam antibiotics originally obtained from Penicillium moulds. Penicillin G "
    "and penicillin V are the natural penicillins still in clinical use."
)


def source(n: int, title: str, text: str) -> dict:
    return {"id": str(n), "url": f"https://en.wikipedia.org/wiki/{title.replace(' ', '_')}", "title": title,
            "text": text, "score": 0.6, "published": None}


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def test_a_section_keeps_the_sentences_that_state_the_discovery(relevance):
    """From the issue: the "Alexander Fleming" section printed only that he was a Scottish physician; the 1928
    discovery and the 1945 Nobel Prize, which open on "He" and "His", were dropped."""
    topic = "The discovery of penicillin and the development of antibiotics"
    section = new_paragraph(0, "Alexander Fleming", "Who discovered penicillin, and how.",
                            ["Who discovered penicillin?"])
    text, chosen = extract_section(relevance, topic, section, [source(1, "Alexander Fleming", FLEMING),
                                                               source(2, "Penicillin", PENICILLIN)])
    assert "He discovered benzylpenicillin in 1928 at St Mary's Hospital in London [1]." in text
    assert "1945 Nobel Prize" in text
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 2 and {c.source for c in chosen} == {1, 2}  # one paragraph per source, both used
    assert paragraphs[0].startswith("Sir Alexander Fleming")  # the passage reads in its own order


def test_a_leaning_sentence_goes_with_the_sentence_it_leans_on():
    """A "He ..." on the section brings the sentence it leans on, however that one scores, and an "It ..." follows
    the sentence it leans on, however it scores itself; an off-section "He ..." after an off-section sentence goes
    with it."""
    sentences = [Candidate(1, 0, "Fleming was born in Ayrshire.", 0.1),
                 Candidate(1, 1, "He studied at St Mary's.", 0.9),
                 Candidate(1, 2, "Penicillin was discovered in 1928.", 0.8),
                 Candidate(1, 3, "It was first mass-produced in 1942.", 0.2)]
    assert [c.position for c in passage(sentences, min_score=0.3)] == [0, 1, 2, 3]
    off = [Candidate(1, 0, "Fleming was born in Ayrshire.", 0.1),
           Candidate(1, 1, "He liked golf.", 0.1),
           Candidate(1, 2, "Penicillin was discovered in 1928.", 0.8)]
    assert [c.position for c in passage(off, min_score=0.3)] == [2]


def test_a_sentence_opening_on_a_definite_description_goes_with_the_one_before(relevance):
    """A Cold War report printed "The term later took on a broader, metaphoric meaning ..." from the Iron Curtain
    article without the sentence saying which term: it now comes with that sentence, whatever that one scores. A
    source's own first sentence ("The nuclear arms race was ...") opens it and stands alone."""
    curtain = [Candidate(1, 0, "The Iron Curtain was a political boundary dividing Europe.", 0.1),
               Candidate(1, 1, "The term later took on a broader, metaphoric meaning.", 0.9),
               Candidate(1, 2, "Winston Churchill used the phrase in 1946.", 0.8)]
    assert [c.position for c in passage(curtain, min_score=0.3)] == [0, 1, 2]
    race = [Candidate(2, 0, "The nuclear arms race was a competition for supremacy in nuclear warfare.", 0.9, opening=True)]
    assert [c.position for c in passage(race, min_score=0.3)] == [0]
    # the Iron Curtain's second chunk starts "the Eastern Bloc. The term later ...": cut mid-article, it opens nothing
    chunk = {"id": "c", "url": "u", "title": "Iron Curtain", "published": None, "score": 0.5,
             "text": "the Eastern Bloc. The term later took on a broader, metaphoric meaning in the Cold War."}
    found = candidates(relevance, "The Cold War", new_paragraph(0, "Cold War", "The Cold War.", ["What?"]), [chunk])
    assert found and not found[0].opening and passage(found, min_score=0.0) == []


def test_a_passage_that_repeats_itself_prints_its_point_once(relevance):
    topic = "Penicillin"
    section = new_paragraph(0, "Penicillin", "What penicillin is.", ["What is penicillin?"])
    repeated = f"{PENICILLIN} Penicillins are a group of beta-lactam antibiotics originally obtained from Penicillium moulds."
    text, _ = extract_section(relevance, topic, section, [source(1, "Penicillin", repeated)])
    assert text.count("beta-lactam") == 1


def test_the_parts_of_one_document_print_together_in_its_order(relevance):
    """From a reader check (the fall of the Roman Republic): a later chunk of an article scored better than its
    opening, printed first, and its first sentence read as the article's start. The parts of a document print as
    one paragraph in document order, and a later part's first sentence does not open it."""
    topic = "The discovery of penicillin and the development of antibiotics"
    section = new_paragraph(0, "Penicillin's discovery", "Who discovered penicillin, and when.",
                            ["Who discovered penicillin?"])
    opening = {**source(1, "Alexander Fleming", FLEMING.split(" He discovered")[0]), "chunk": 0}
    later = {**source(2, "Alexander Fleming", "He discovered benzylpenicillin in 1928 at St Mary's Hospital in "
                      "London. Penicillin was the first broadly effective antibiotic."), "chunk": 1}
    found = candidates(relevance, topic, section, [later, opening])
    assert [c.opening for c in found if c.position == 0] == [False, True]  # only part 0 opens the article
    assert {c.part for c in found if c.source == 1} == {1}
    text, chosen = extract_section(relevance, topic, section, [later, opening])
    assert text.count("\n\n") == 0, "one document, one paragraph"
    assert text.startswith("Sir Alexander Fleming") and "[2]" in text.split("[1]")[0]  # part 0 first, then part 1
    # the later part alone: its leaning first sentence has nothing to lean on, and is not printed
    alone, _ = extract_section(relevance, topic, section, [later])
    assert not alone.startswith("He discovered")


def test_a_citation_follows_a_closing_quote_and_precedes_the_full_stop():
    """Read in agent-chat-ui: 'the Chinese legend titled "Great Yu Controls the Waters [2]".'"""
    assert cite('The legend is titled "Great Yu Controls the Waters".', 2) == (
        'The legend is titled "Great Yu Controls the Waters" [2].')
    assert cite('He said "go."', 1) == 'He said "go" [1].'
    assert cite("Printing spread fast.", 3) == "Printing spread fast [3]."
    assert cite("Printing spread fast", 3) == "Printing spread fast [3]."
