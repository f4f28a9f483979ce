"""A later round's query reaches past the documents the section holds (nodes/search.py `search_depth`): a search
ranks a topic's core articles first for every query on it, and a round that asked for no more than it held
found nothing new and ended the section's research. Real MiniLM relevance, the in-memory backend."""

from __future__ import annotations

import pytest
from langgraph.runtime import Runtime

from nexa_research.nodes.search import make_search_node, search_depth
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.provider_set import StaticProviders
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.providers.search.in_memory import InMemorySearch
from nexa_research.state import new_paragraph
from support.naming_corpus import ARTICLES, TOPIC, article

MORE = [
    article("Dust Bowl", "The Dust Bowl was a period of severe dust storms that damaged the ecology and agriculture of "
            "the American and Canadian prairies during the 1930s, the years of the Great Depression."),
    article("Works Progress Administration", "The Works Progress Administration was an American New Deal agency "
            "that employed millions of jobseekers to carry out public works projects during the Great Depression."),
    article("Social Security Act", "The Social Security Act of 1935 is a law enacted by the 74th United States "
            "Congress and signed into law by U.S. President Franklin D. Roosevelt as part of the New Deal."),
]
QUERY = "Great Depression New Deal Franklin Roosevelt"


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def test_the_depth_is_the_results_asked_for_plus_what_is_held_within_a_bound():
    assert search_depth(5, 0) == 5
    assert search_depth(5, 4) == 9
    assert search_depth(5, 40) == 15


async def test_a_second_round_finds_documents_below_the_ones_the_section_holds(relevance):
    backend = InMemorySearch([*ARTICLES, *MORE])
    held = await backend.search(QUERY, 3)  # the three the query ranks first
    assert {s["title"] for s in held} <= {"New Deal", "Franklin D. Roosevelt", "Hoover Dam", "Great Depression"}
    paragraph = new_paragraph(0, "The New Deal's programmes", "What Roosevelt's New Deal did in the Depression.",
                              ["What did the New Deal do?"])
    paragraph = {**paragraph, "queries": ["first query", QUERY], "iterations": 2, "research": held,
                 "rounds": [{"queries": ["first query"], "added": 3}, {"queries": [QUERY]}]}
    providers = StaticProviders(chat={}, search=backend, relevance=relevance)
    update = await make_search_node(providers)(
        {"topic": TOPIC, "paragraph": paragraph}, {"configurable": {"search_results": 3}}, Runtime(context=None)
    )
    added = [s["title"] for s in update["sources"]]
    assert added and not set(added) & {s["title"] for s in held}
    assert set(added) & {"Works Progress Administration", "Social Security Act", "Dust Bowl"}
    assert update["paragraph"]["rounds"][-1]["added"] == len(added)
    assert update["paragraph"].get("stop_reason") != "empty_search"
