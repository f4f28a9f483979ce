"""The search node's documents naming the subject (nodes/search.py): they compete with what the queries found,
judged by their naming sentences, from documents not unrelated to the topic. Real MiniLM relevance."""

from __future__ import annotations

import pytest
from langgraph.runtime import Runtime

from nexa_research.config import ResearchConfig
from nexa_research.nodes.search import make_search_node
from nexa_research.nodes.survey import survey
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.provider_set import StaticProviders
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.state import new_paragraph
from support.naming_corpus import ARTICLES, TOPIC, NamingSearch, article


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


async def _searched(relevance, documents, query: str) -> list[str]:
    providers = StaticProviders(chat={}, search=NamingSearch(documents), relevance=relevance)
    surveyed = await survey(providers, TOPIC, ResearchConfig())
    paragraph = new_paragraph(0, "The New Deal's reforms", "Roosevelt's response to the Great Depression.",
                              ["What did the New Deal do?"])
    paragraph = {**paragraph, "queries": [query], "iterations": 1}
    state = {"topic": TOPIC, "paragraph": paragraph, "topic_cut": surveyed.topic_cut,
             "subject": surveyed.subject.as_dict()}
    update = await make_search_node(providers)(state, {"configurable": {}}, Runtime(context=None))
    return [s["title"] for s in update["paragraph"]["research"]]


async def test_a_section_takes_the_documents_naming_the_subject_judged_by_their_sentences(relevance):
    titles = await _searched(relevance, ARTICLES, "New Deal reforms")
    assert "New Deal" in titles and "Franklin D. Roosevelt" in titles
    assert "Buddy Holly" not in titles  # "born ... during the Great Depression": not on the topic


async def test_a_document_unrelated_to_the_topic_stays_out_though_its_mention_is_on_it(relevance):
    """A bassoon's article (0.05 against the topic as a whole) with a sentence on its makers in the Great
    Depression and New Deal contracts (0.53): the document must not be unrelated to the topic (the section
    cut-off), as "On the Road" and its "backdrop of jazz" (0.11) for the origins of jazz."""
    bassoon = article("Bassoon", "The bassoon is a musical instrument in the woodwind family, which plays in the tenor "
                      "and bass ranges. Its makers struggled through the Great Depression until New Deal contracts for "
                      "school bands.")
    titles = await _searched(relevance, [*ARTICLES, bassoon], "New Deal reforms")
    assert "Franklin D. Roosevelt" in titles and "Bassoon" not in titles
