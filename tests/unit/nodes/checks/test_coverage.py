"""Reflection decides by coverage (nodes/checks/coverage.py): enough sources and every key question answered,
or another round with the unanswered questions and the names the sources mention."""

from __future__ import annotations

import pytest

from nexa_research.nodes.checks.coverage import (
    LEAD_ROUNDS,
    TARGET_SOURCES,
    Coverage,
    leads,
    mentioned_names,
    section_coverage,
)
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.state import new_paragraph

COLD_WAR = ("The Cold War was a period of geopolitical tension between the United States and the Soviet Union. "
            "Its origins lie in the Yalta Conference of 1945, where Franklin D. Roosevelt, Winston Churchill and "
            "Joseph Stalin met, and in the Potsdam Conference that followed.")


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def test_names_are_runs_of_capitalised_words_not_sentence_openings():
    names = mentioned_names(COLD_WAR)
    assert "Yalta Conference" in names and "Franklin D Roosevelt" in names and "Joseph Stalin" in names
    assert "United States" in names and "Soviet Union" in names
    assert "The Cold War" not in names and "Its" not in names and "Cold War" in names


def test_sufficient_needs_enough_sources_every_question_answered_and_names_followed_once():
    assert not Coverage([("Q?", True)], TARGET_SOURCES - 1).sufficient  # one article is not research
    assert not Coverage([("Q?", False)], TARGET_SOURCES + 3).sufficient
    assert Coverage([("Q?", True)], TARGET_SOURCES).sufficient
    assert not Coverage([("Q?", True)], TARGET_SOURCES, leads=["Yalta Conference"], rounds=1).sufficient
    assert Coverage([("Q?", True)], TARGET_SOURCES, leads=["Yalta Conference"], rounds=LEAD_ROUNDS).sufficient


def test_next_round_asks_unanswered_questions_and_follows_names_without_repeats():
    coverage = Coverage([("What started it?", False), ("Who led it?", True)], 1, leads=["Yalta Conference"])
    assert coverage.next_queries("origins of the cold war") == [
        "origins of the cold war", "What started it?", "Yalta Conference"]
    assert coverage.next_queries("What started it?") == ["What started it?", "Yalta Conference"]


def test_a_one_source_section_follows_the_names_that_are_about_it(relevance):
    """From the issue: "Origins of the Cold War" stopped after one article although the knowledge base holds the
    Yalta Conference, Truman and Stalin."""
    topic = "The origins of the Cold War and the nuclear arms race"
    section = new_paragraph(0, "Origins of the Cold War", "How the wartime alliance broke apart after 1945.",
                            ["How did the Cold War begin?"])
    section["research"] = [{"id": "1", "url": "https://en.wikipedia.org/wiki/Cold_War", "title": "Cold War",
                            "text": COLD_WAR, "score": 0.7, "published": None}]
    section["queries"] = ["origins of the cold war"]
    coverage = section_coverage(relevance, topic, section)
    assert not coverage.sufficient and coverage.leads
    assert "Cold War" not in coverage.leads  # the gathered article's own title is not a lead
    assert set(coverage.leads) <= set(mentioned_names(COLD_WAR))
    assert leads(relevance, topic, {**section, "research": []}) == []


def test_a_name_for_an_article_already_gathered_is_followed_last(relevance):
    """From `make run` on the Egyptian pyramids: the Old Kingdom section followed "Age of the Pyramids" and "Fourth
    Dynasty of the Old Kingdom" (its own article again) before the kings its article names."""
    topic = "Ancient Egyptian pyramids and the pharaohs who built them"
    section = new_paragraph(0, "Old Kingdom of Egypt", "The pharaohs of the Old Kingdom who built the pyramids.",
                            ["Which pharaohs built pyramids?"])
    section["research"] = [{"id": "1", "url": "https://en.wikipedia.org/wiki/Old_Kingdom_of_Egypt",
                            "title": "Old Kingdom of Egypt", "score": 0.7, "published": None,
                            "text": "In ancient Egyptian history, the Old Kingdom is the period spanning c. 2700 to "
                                    "2200 BC. It is also known as the Age of the Pyramids, as it encompasses the "
                                    "reigns of King Sneferu and the kings Khufu, Khafre and Menkaure, who "
                                    "commissioned the pyramids at Giza."}]
    found = leads(relevance, topic, section, limit=3)
    assert found and "Old Kingdom" not in found[0]
    assert {"Khufu", "Khafre", "Menkaure", "Sneferu", "King Sneferu"} & set(found)


def test_a_possessive_is_not_part_of_the_name():
    """From the quick evals: the Black Death's "50% of Europe's 14th-century population" made "Europe's" a lead,
    which no article is called and the topic names anyway."""
    assert mentioned_names("It killed half of Europe's population and much of Asia’s.") == ["Europe", "Asia"]


def test_an_aside_or_a_date_does_not_join_a_name():
    """From the quick evals: leads "New York Stock Exchange NYSE" and "World War II on December" found nothing."""
    names = mentioned_names("Prices fell on the New York Stock Exchange (NYSE) in 1929. It lasted until the United "
                            "States entered World War II on December 8, 1941.")
    assert "New York Stock Exchange" in names and "World War II" in names
    assert not any("NYSE" in n or "December" in n for n in names)


def test_the_setting_most_sources_share_is_not_a_lead(relevance):
    """"United States" in the New Deal, the Great Depression and the Wall Street crash alike is where they happen,
    not a subject they point to; "Herbert Hoover", named by one of them, is."""
    def article(title: str, text: str) -> dict:
        return {"id": title, "url": f"https://en.wikipedia.org/wiki/{title.replace(' ', '_')}", "title": title,
                "text": text, "score": 0.6, "published": None}

    section = new_paragraph(0, "The New Deal", "Reforms of the 1930s in response to the Great Depression.",
                            ["What did the New Deal change?"])
    section["research"] = [
        article("New Deal", "The New Deal was a series of reforms in the United States in the 1930s. It replaced the "
                "policies of President Herbert Hoover after his defeat in the 1932 election."),
        article("Great Depression", "The Great Depression was a severe economic downturn. It began in the United "
                "States in 1929 and spread around the world."),
        article("Wall Street crash of 1929", "The Wall Street crash of 1929 was a stock market crash in the United "
                "States. It began in October 1929."),
    ]
    found = leads(relevance, "The Great Depression and the New Deal", section)
    assert "United States" not in found and "President Herbert Hoover" in found


def test_a_manuals_pointer_to_its_own_parts_is_not_a_name():
    text = ("Logical replication is described in Section 29.2 and Table 9.1 of the manual. The settings are in "
            "Chapter 20, written by Tom Lane.")
    assert mentioned_names(text) == ["Tom Lane"]
