"""Which section a sentence belongs to: chosen per section against the whole plan (nodes/text/extractive.py), and
settled report-wide when two sections print it (nodes/text/ownership.py). Real MiniLM relevance."""

from __future__ import annotations

import pytest

from nexa_research.nodes.checks.relevance import section_text
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.state import new_paragraph


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def test_a_section_left_empty_by_ownership_takes_near_ties_not_what_plainly_belongs_elsewhere(relevance):
    """From `make run` on the rise and fall of the Mongol Empire: a broad "Key Events of the Mongol Empire" lost
    every sentence to the article sections beside it, took them all back, and printed Batu Khan's and the Kazakh
    Khanate's opening sentences; those sections were then left a stray sentence or nothing. It takes the near ties
    (the empire's sentence, a little closer to "Rise of the Mongol Empire") and leaves Batu Khan's to Batu Khan."""
    from nexa_research.nodes.text.extractive import extract_section
    topic = "The rise and fall of the Mongol Empire"
    broad = new_paragraph(0, "Key Events of the Mongol Empire", "The main events in the history of the Mongol Empire.",
                          ["What were the key events of the Mongol Empire?"])
    batu = new_paragraph(1, "Batu Khan", "What the sources say about Batu Khan.", ["What was Batu Khan?"])
    rise = new_paragraph(2, "Rise of the Mongol Empire", "What the sources say about rise of the Mongol Empire.",
                         ["What is known about rise of the Mongol Empire?"])
    sources = [
        {"id": "1", "url": "https://en.wikipedia.org/wiki/Batu_Khan", "title": "Batu Khan", "published": None,
         "score": 0.6, "text": "Batu Khan was a Mongol ruler and founder of the Golden Horde, a constituent of the "
                               "Mongol Empire established after Genghis Khan's demise."},
        {"id": "2", "url": "https://en.wikipedia.org/wiki/Mongol_Empire", "title": "Mongol Empire", "published": None,
         "score": 0.7, "text": "The Mongol Empire of the 13th and 14th centuries was the largest contiguous empire in "
                               "history."},
    ]
    plan = [section_text(p) for p in (broad, batu, rise)]  # the empire's sentence: 0.60 to rise, 0.57 to broad
    text, chosen = extract_section(relevance, topic, broad, sources, plan=plan)
    assert chosen and "largest contiguous empire" in text
    assert "Golden Horde" not in text


def test_sections_of_a_fallback_plan_each_keep_their_own_articles_sentences(relevance):
    """From the eval's Great Depression report: the fallback outlines all carried the topic ("What X was and how it
    relates to The Great Depression and the New Deal"), so every section was about as close to every sentence on
    the topic; "Great Depression" printed the Wall Street crash's sentences and left that section one stray line."""
    from nexa_research.nodes.checks.plan import fallback_sections
    from nexa_research.nodes.text.extractive import candidates
    topic = "The Great Depression and the New Deal"
    articles = [{"url": f"https://en.wikipedia.org/wiki/{t}", "title": t, "text": ""}
                for t in ("New Deal", "Great Depression", "Wall Street crash of 1929")]
    plan = [new_paragraph(i, s.title, s.outline, s.questions)
            for i, s in enumerate(fallback_sections([], articles, topic, 3))]
    assert [p["title"] for p in plan] == ["New Deal", "Great Depression", "Wall Street crash of 1929"]
    source = {"id": "1", "url": "https://en.wikipedia.org/wiki/Great_Depression", "title": "Great Depression",
              "published": None, "score": 0.7,
              "text": "The Great Depression was a severe global economic downturn from 1929 to 1939. The New Deal was "
                      "a 1933-1938 series of economic, social, and political reforms in response to the Great "
                      "Depression in the United States under President Franklin D. Roosevelt. The Wall Street crash "
                      "of 1929, also known as the Great Crash, was a major stock market crash in the United States "
                      "which began in October 1929 with a sharp decline in prices on the New York Stock Exchange."}
    texts = [section_text(p) for p in plan]
    kept = {p["title"]: [c.text.split(" was ")[0] for c in candidates(relevance, topic, p, [source], texts) if c.score > 0]
            for p in plan}
    assert kept == {"New Deal": ["The New Deal"], "Great Depression": ["The Great Depression"],
                    "Wall Street crash of 1929": ["The Wall Street crash of 1929, also known as the Great Crash,"]}


BATU = ("Batu Khan was a Mongol ruler and founder of the Golden Horde, a constituent of the Mongol Empire established "
        "after Genghis Khan's demise")
EMPIRE = "The Mongol Empire of the 13th and 14th centuries was the largest contiguous empire in history"


def test_a_sentence_two_sections_print_stays_in_the_one_it_is_about(relevance):
    """From `make run` on the Mongol Empire: the broad first section printed Batu Khan's opening sentence, the
    report-wide de-duplication kept that first copy, and the "Batu Khan" section was left one stray line."""
    from nexa_research.nodes.collator import assemble_sections

    batu_source = {"id": "b", "url": "https://en.wikipedia.org/wiki/Batu_Khan", "title": "Batu Khan",
                   "text": BATU + ".", "published": None, "score": 0.6}
    empire_source = {"id": "e", "url": "https://en.wikipedia.org/wiki/Mongol_Empire", "title": "Mongol Empire",
                     "text": EMPIRE + ".", "published": None, "score": 0.7}
    broad = {**new_paragraph(0, "Key Events of the Mongol Empire", "The main events in the history of the Mongol "
                             "Empire.", ["What were the key events?"]),
             "status": "done", "research": [empire_source, batu_source],
             "latest_summary": f"{EMPIRE} [1]. {BATU} [2]. He ruled the Golden Horde for a decade [2]."}
    batu = {**new_paragraph(1, "Batu Khan", "What the sources say about Batu Khan.", ["What was Batu Khan?"]),
            "status": "done", "research": [batu_source], "latest_summary": f"{BATU} [1]."}
    sections, bibliography, removed, left_out = assemble_sections({"paragraphs": [broad, batu]}, relevance)

    assert [s.title for s in sections] == ["Key Events of the Mongol Empire", "Batu Khan"] and not left_out
    assert sections[0].content == f"{EMPIRE} [1]."  # the sentence leaning on Batu's ("He ruled ...") went with it
    assert sections[1].content == f"{BATU} [2]."
    assert removed == 2 and [e["title"] for e in bibliography.entries] == ["Mongol Empire", "Batu Khan"]


def test_between_equals_the_earlier_section_keeps_a_repeated_sentence(relevance):
    from nexa_research.nodes.text.ownership import yield_to_owners

    about = ["Batu Khan. What the sources say about Batu Khan.", "Batu Khan. What the sources say about Batu Khan."]
    contents, removed = yield_to_owners(relevance, about, [f"{BATU} [1].", f"{BATU} [1]."])
    assert contents == [f"{BATU} [1].", f"{BATU} [1]."] and removed == 0  # first-come removes the later copy
