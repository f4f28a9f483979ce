"""The topic survey (nodes/survey.py): the articles about the subject, and the articles that name it whose
naming sentences are on the topic, as a fallback plan's last sections. Real MiniLM relevance."""

from __future__ import annotations

import pytest

from nexa_research.config import ResearchConfig
from nexa_research.nodes.survey import survey
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.provider_set import StaticProviders
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.providers.search.in_memory import InMemorySearch
from nexa_research.state import Source
from support.naming_corpus import ARTICLES, TOPIC, NamingSearch


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


async def test_the_articles_naming_the_subject_on_the_topic_are_linked_and_the_rest_are_not(relevance):
    """Roosevelt's article is about a president; its sentence on his first terms, "centered on combating the Great
    Depression", is on the topic (0.50 with the title). Buddy Holly's "born ... during the Great Depression" is not
    (0.14), nor, by a little, the Hoover Dam's "Constructed ... during the Great Depression, it was dedicated ..."
    (0.33, under the calibrated floor 0.36)."""
    providers = StaticProviders(chat={}, search=NamingSearch(ARTICLES), relevance=relevance)
    surveyed = await survey(providers, TOPIC, ResearchConfig())
    assert {a["title"] for a in surveyed.articles} == {"Great Depression", "New Deal"}
    assert [a["title"] for a in surveyed.linked] == ["Franklin D. Roosevelt"]
    assert surveyed.linked[0]["focus"].startswith("His first two terms were centered on combating the Great Depression")
    assert surveyed.linked[0]["text"].startswith("Franklin Delano Roosevelt, also known as FDR")  # what "his" points to


async def test_a_backend_without_a_lookup_by_name_links_nothing(relevance):
    class MeaningOnly(InMemorySearch):
        async def search(self, query: str, k: int, filters: dict | None = None) -> list[Source]:
            return [s for s in await super().search(query, k, filters) if s["title"] in {"Great Depression", "New Deal"}]

    surveyed = await survey(StaticProviders(chat={}, search=MeaningOnly(ARTICLES), relevance=relevance), TOPIC,
                            ResearchConfig())
    assert surveyed.articles and surveyed.linked == ()
