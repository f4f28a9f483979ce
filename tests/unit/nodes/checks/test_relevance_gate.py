"""The relevance gate's two ways in and its band below the run's cut-off, on real MiniLM scores
(nodes/checks/relevance.py): the articles around a subject get in, neighbours of the same kind stay out."""

from __future__ import annotations

import pytest

from nexa_research.nodes.checks.coverage import mentioned_names
from nexa_research.nodes.checks.relevance import gate_sources
from nexa_research.nodes.checks.subject import TopicSubject
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.state import new_paragraph


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def _article(title: str, text: str) -> dict:
    url = "https://en.wikipedia.org/wiki/" + title.replace(" ", "_")
    return {"id": url, "url": url, "title": title, "text": text, "published": None, "score": 0.0}


BLACK_DEATH = "The Black Death in fourteenth-century Europe"
BLACK_DEATH_ARTICLE = _article(
    "Black Death",
    "The Black Death was a plague pandemic that occurred in Europe from 1346 "
    "to 1353. The disease was caused by the bacterium Yersinia pestis.",
)
BUBONIC = _article(
    "Bubonic plague",
    "Bubonic plague is one of three types of plague caused by the bacterium Yersinia "
    "pestis. One to seven days after exposure to the bacteria, flu-like symptoms develop. The bacteria "
    "are usually spread by the bites of infected fleas.",
)
JUSTINIAN = _article(
    "Plague of Justinian",
    "The Plague of Justinian was a pandemic of plague in the Byzantine Empire and "
    "the port cities of Europe from 541 to 549. It killed many people across the medieval Mediterranean.",
)


def test_an_article_the_section_needs_gets_in_though_the_topic_alone_misses_it(relevance):
    """Of the articles a careful researcher cites for the tuning topics, 44% reach the raised topic cut: Bubonic
    plague scores 0.28 against "The Black Death in fourteenth-century Europe". The section it supports (at the
    evals' calibrated section-support threshold) lets it in; the Plague of Justinian, close to the topic (0.45)
    and never naming the Black Death, is a neighbour of the same kind and stays out though it fits the section."""
    section = new_paragraph(0, "Bubonic plague and its transmission", "How the plague bacterium spread.", ["How?"])
    subject = TopicSubject.from_survey(BLACK_DEATH, [(BLACK_DEATH_ARTICLE, 0.69)])
    scores = relevance.similarity([BLACK_DEATH], [f"{a['title']}. {a['text']}" for a in (BUBONIC, JUSTINIAN)])[0]
    assert scores[0] < relevance.thresholds.on_topic < 0.44 <= scores[1]

    kept = gate_sources(relevance, BLACK_DEATH, section, [BUBONIC, JUSTINIAN], topic_cut=0.44, subject=subject).kept
    assert [s["title"] for s in kept] == ["Bubonic plague"]
    # a caller's own cut-off replaces the whole judgement, this way in included
    assert gate_sources(relevance, BLACK_DEATH, section, [BUBONIC], min_relevance=0.4).kept == []


JAZZ = "The origins and development of jazz"
PARKER = _article(
    "Charlie Parker",
    "Charles Parker Jr., nicknamed Bird, was an American saxophonist, bandleader and "
    "composer. Parker was a highly influential soloist and a leading figure in the development of bebop, "
    "a form of jazz.",
)
BLUES = _article(
    "Blues",
    "Blues is a music genre and musical form that originated among African Americans in the Deep "
    "South of the United States around the 1860s.",
)


def test_below_the_runs_cut_a_source_that_names_the_subject_is_about_it(relevance):
    """Between the calibrated floor and the run's raised cut (0.45) sit the subject's people (Charlie Parker 0.43
    for the origins of jazz) and shared-field neighbours (Blues 0.45, Cro-Magnon 0.44 for the Black Death): the
    ones whose text names the subject are in."""
    section = new_paragraph(0, "Saxophonists", "Players of the saxophone.", ["Who?"])
    subject = TopicSubject.from_survey(JAZZ, [(_article("Jazz", "Jazz is a music genre."), 0.75)])
    assert subject.names_subject(PARKER) and not subject.names_subject(BLUES)

    kept = gate_sources(relevance, JAZZ, section, [PARKER, BLUES], topic_cut=0.45, subject=subject).kept
    assert [s["title"] for s in kept] == ["Charlie Parker"]
    assert gate_sources(relevance, JAZZ, section, [PARKER, BLUES], topic_cut=0.45).kept == []  # no subject, no band


DEPRESSION = "The Great Depression and the New Deal"
NEW_DEAL = _article(
    "New Deal",
    "The New Deal was a 1933–1938 series of economic, social, and political reforms in "
    "response to the Great Depression in the United States under President Franklin D. Roosevelt.",
)
FDR = _article(
    "Franklin D. Roosevelt",
    "Franklin Delano Roosevelt, also known as FDR, was the 32nd president of the "
    "United States, serving from 1933 until his death in 1945. He is the longest-serving US president. His "
    "first two terms were centered on combating the Great Depression, while his third and fourth focused on "
    "US involvement in World War II.",
)
BENJAMIN = _article(
    "Benjamin Franklin",
    "Benjamin Franklin was an American polymath who was one of the Founding Fathers of the United States.",
)


def test_an_article_the_sections_sources_name_gets_in_by_the_link(relevance):
    """Roosevelt scores 0.28 against "The Great Depression and the New Deal", below every cut-off the embedding
    gives; the New Deal's text names him, and his names the Great Depression: the link both ways lets him in. The
    knowledge base's answer to "Franklin D. Roosevelt" starts with Benjamin Franklin, whom no source names."""
    section = new_paragraph(0, "The New Deal", "What the sources say about The New Deal.", ["What was it?"])
    subject = TopicSubject.from_survey(DEPRESSION, [(NEW_DEAL, 0.73)])
    named = mentioned_names(NEW_DEAL["text"])
    assert "President Franklin D Roosevelt" in named

    found = [BENJAMIN, FDR]
    assert gate_sources(relevance, DEPRESSION, section, found, topic_cut=0.45, subject=subject).kept == []
    kept = gate_sources(relevance, DEPRESSION, section, found, topic_cut=0.45, subject=subject, named=named).kept
    assert [s["title"] for s in kept] == ["Franklin D. Roosevelt"]


def test_a_name_is_an_article_only_when_it_says_the_whole_title():
    from nexa_research.nodes.checks.subject import named_article

    names = ["President Franklin D. Roosevelt", "James Watt", "Amazon", "Brazil"]
    assert named_article("Franklin D. Roosevelt", names) and named_article("Brazil", names)
    assert not named_article("Watt", names)  # a one-word title is the whole name or nothing
    assert not named_article("Amazon (company)", names)  # a qualified title is one of several things its name means
    assert not named_article("Brazil", names, topic="The history of Brazil")  # the topic says it already
    assert not named_article("Brazil", [])


def test_a_link_one_way_is_not_enough(relevance):
    """The Amazon River's text names the Nile ("a title which is disputed with the Nile"); the Nile's never names
    the Amazon River, and a quick eval's Amazon report printed the Nile's length and its role in Africa."""
    topic = "The Amazon River and its rainforest"
    river = _article(
        "Amazon River",
        "The Amazon River in South America is the largest river by discharge volume of "
        "water in the world, and the second-longest river system, a title which is disputed with the Nile.",
    )
    nile = _article(
        "Nile",
        "The Nile is a major north-flowing river in northeast Africa. At 6,650 km long, it is among "
        "the longest rivers in the world.",
    )
    section = new_paragraph(0, "Amazon River", "The river and its course.", ["How long is it?"])
    subject = TopicSubject.from_survey(topic, [(river, 0.74)])
    named = mentioned_names(river["text"])
    assert "Nile" in named
    assert gate_sources(relevance, topic, section, [nile], topic_cut=0.45, subject=subject, named=named).kept == []


SEAL = _article(
    "The Seventh Seal",
    "The Seventh Seal is a 1957 Swedish historical fantasy film written and directed by "
    "Ingmar Bergman. It stars Max von Sydow as Antonius Block, a medieval knight returning to Sweden "
    "during the Black Death after the Crusades, who challenges the personification of Death to a game of "
    "chess in an attempt to delay his fate. The cast also features Gunnar Björnstrand, Nils Poppe, Bibi "
    "Andersson, Inga Gill, Maud Hansson, and Gunnel Lindblom.",
)


def test_a_passage_found_by_the_subjects_name_is_judged_by_the_sentences_naming_it(relevance):
    """The Seventh Seal's article is about a film, under the on-topic floor for the Black Death; its sentences
    naming the Black Death are on the topic. Cut to them (nodes/text/excerpts.py), it gets in, judged by its
    `focus`; the same excerpt judged by its whole text (the film's opening included) stays out."""
    from nexa_research.nodes.text.excerpts import naming_excerpt

    section = new_paragraph(0, "Black Death", "What the Black Death was and how it marked Europe.", ["What was it?"])
    subject = TopicSubject.from_survey(BLACK_DEATH, [(BLACK_DEATH_ARTICLE, 0.69)])
    excerpt = naming_excerpt(SEAL, subject.named_in)
    assert (
        excerpt is not None and "Black Death" in excerpt["focus"] and excerpt["text"].startswith("The Seventh Seal is")
    )
    kept = gate_sources(relevance, BLACK_DEATH, section, [excerpt], topic_cut=0.45, subject=subject).kept
    assert [s["title"] for s in kept] == ["The Seventh Seal"]
    whole = {k: v for k, v in excerpt.items() if k != "focus"}
    assert gate_sources(relevance, BLACK_DEATH, section, [whole], topic_cut=0.45, subject=subject).kept == []


def test_an_excerpt_found_by_name_must_come_from_a_passage_related_to_the_topic(relevance):
    from nexa_research.nodes.checks.relevance import related_to_topic

    jazz = "The origins and development of jazz"
    novel = _article(
        "On the Road",
        "On the Road is a novel by Jack Kerouac about road trips across America, against "
        "a backdrop of jazz, poetry and drug use.",
    )
    player = _article(
        "Louis Armstrong",
        "Louis Armstrong was an American trumpeter and vocalist, among the most influential figures in jazz.",
    )
    assert related_to_topic(relevance, jazz, [novel, player], relevance.thresholds.on_section) == [False, True]


MONGOLS = "The Mongol Empire under Genghis Khan and his successors"
EMPIRE = _article(
    "Mongol Empire",
    "The Mongol Empire was the largest land empire in history. From its homeland in "
    "Mongolia it reached at its height from the Sea of Japan to Eastern Europe, from Siberia to the "
    "Indian subcontinent.",
)
CONQUESTS = _article(
    "Mongol conquests",
    "The Mongol conquests of the 13th and 14th centuries created the Mongol Empire, "
    "the largest land empire in history. The empire began to break apart after its first great "
    "defeat, at Ain Jalut in 1260, against the Mamluks of Egypt. Mongols went on ruling China under "
    "the Yuan dynasty until 1368.",
)
KUBLAI = _article(
    "Kublai Khan",
    "Kublai Khan was the founder of the Yuan dynasty of China and the fifth great khan of "
    "the Mongol Empire. He proclaimed the dynasty in 1271 and ruled until his death in 1294.",
)


def test_two_articles_that_open_alike_are_not_duplicates(relevance):
    """Whole-passage closeness at the duplicate cut-off took "Mongol conquests" for a copy of "Mongol Empire" (0.81
    in the corpus), so the section on the conquests never held the article named after it. A passage is a
    duplicate when every sentence of it repeats one held; a copy with one word changed still is."""
    section = new_paragraph(1, "Mongol conquests", "The campaigns that built the empire.", ["Which campaigns?"])
    close = relevance.similarity([EMPIRE["text"]], [CONQUESTS["text"]])[0, 0]
    assert close >= relevance.thresholds.duplicate

    gate = gate_sources(relevance, MONGOLS, section, [CONQUESTS], known=[EMPIRE])
    assert [s["title"] for s in gate.kept] == ["Mongol conquests"] and gate.duplicates == 0
    copy = _article("Mongol Empire (copy)", EMPIRE["text"].replace("largest", "biggest"))
    gate = gate_sources(relevance, MONGOLS, section, [copy], known=[EMPIRE])
    assert gate.kept == [] and gate.duplicates == 1


def test_a_result_another_section_is_about_is_ranked_after_the_sections_own(relevance):
    """Branches research apart: ranked by closeness alone, each section of a report spends its places on the same
    core articles (printed in one section only), and articles only one section would print are kept by none. A
    result another section of the plan matches better goes after the section's own, and still comes in when
    places are left."""
    section = new_paragraph(
        2,
        "The Mongol Empire after Genghis Khan",
        "The empire under the great khans who followed him.",
        ["Who followed him?"],
    )
    others = ["Mongol Empire. How far the empire reached at its height."]
    assert [s["title"] for s in gate_sources(relevance, MONGOLS, section, [EMPIRE, KUBLAI], limit=1).kept] == [
        "Mongol Empire"
    ]
    ranked = gate_sources(relevance, MONGOLS, section, [EMPIRE, KUBLAI], limit=1, others=others)
    assert [s["title"] for s in ranked.kept] == ["Kublai Khan"]
    both = gate_sources(relevance, MONGOLS, section, [EMPIRE, KUBLAI], limit=5, others=others)
    assert [s["title"] for s in both.kept] == ["Kublai Khan", "Mongol Empire"]
