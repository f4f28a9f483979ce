"""A section follows the links of the pages it found (nodes/search.py `linked_candidates`): a manual's chapter page
lists the pages the chapter consists of, which a search by meaning ranks far below it. The linked pages pass the
same relevance gate as any result: an off-subject page a source links to is not taken. Real MiniLM relevance."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from langgraph.runtime import Runtime

from nexa_research.nodes.search import make_search_node
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.provider_set import StaticProviders
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.providers.search.in_memory import InMemorySearch
from nexa_research.providers.search.protocol import make_source
from nexa_research.state import Source, new_paragraph

TOPIC = "How does the write-ahead log protect data and make recovery possible?"
BASE = "file:///manual/"
CHAPTER = make_source(url=f"{BASE}wal.html#WAL", title="Reliability and the Write-Ahead Log",
                      text="This chapter explains how the Write-Ahead Log is used to obtain efficient, reliable operation.")
PAGES = {
    "wal-reliability.html": ("Reliability", "Reliability is an important property of any serious database system: "
                             "data written by a committed transaction must survive a crash, so the log is flushed to "
                             "durable storage before the commit is reported."),
    "wal-async-commit.html": ("Asynchronous Commit", "Asynchronous commit lets transactions complete before their "
                              "write-ahead log records reach the disk, at the risk of losing the most recent "
                              "transactions in a crash."),
    # 0.40 against the topic: under the run's raised cut (0.45), over the calibrated floor (0.36)
    "wal-internals.html": ("WAL Internals", "Log records are appended to segment files in the pg_wal directory; at "
                           "a checkpoint every dirty data page has been flushed to disk."),
    "disk-usage.html": ("Monitoring Disk Usage", "Each table has a primary heap disk file where most of the data is "
                        "stored, and views report how much space each table uses."),
}


class ManualSearch(InMemorySearch):
    """The in-memory backend plus the chapter page's links, as the knowledge base gives them."""

    def __init__(self) -> None:
        super().__init__([{"url": CHAPTER["url"], "title": CHAPTER["title"], "text": CHAPTER["text"]}])
        self.asked: list[list[str]] = []

    async def linked(self, urls: Sequence[str], limit: int) -> list[Source]:
        self.asked.append(list(urls))
        if CHAPTER["url"] not in urls:
            return []
        return [make_source(url=f"{BASE}{name}", title=title, text=text) for name, (title, text) in PAGES.items()][:limit]


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


async def test_the_pages_a_held_chapter_page_lists_are_researched(relevance):
    backend = ManualSearch()
    paragraph = new_paragraph(0, "Write-ahead logging and crash safety",
                              "How the write-ahead log keeps committed data through a crash.",
                              ["How does the log protect committed data?"])
    paragraph = {**paragraph, "queries": ["first", "the chapter"], "iterations": 2, "research": [CHAPTER],
                 "rounds": [{"queries": ["first"], "added": 1}, {"queries": ["the chapter"]}]}
    providers = StaticProviders(chat={}, search=backend, relevance=relevance)
    update = await make_search_node(providers)(
        {"topic": TOPIC, "paragraph": paragraph}, {"configurable": {"search_results": 5}}, Runtime(context=None))
    added = {s["url"].rsplit("/", 1)[-1] for s in update["sources"]}
    assert {"wal-reliability.html", "wal-async-commit.html"} <= added, "the chapter's pages on the subject"
    assert "disk-usage.html" not in added, "a linked page off the subject still fails the gate"
    assert backend.asked and CHAPTER["url"] in backend.asked[0]
    assert update["paragraph"].get("stop_reason") != "empty_search"


async def test_the_survey_shows_the_planner_the_on_topic_pages_a_page_found_links_to(relevance):
    from nexa_research.config import ResearchConfig
    from nexa_research.nodes.survey import survey

    backend = ManualSearch()
    surveyed = await survey(StaticProviders(chat={}, search=backend, relevance=relevance), TOPIC, ResearchConfig())
    names = [a["url"].rsplit("/", 1)[-1] for a in surveyed.articles]
    assert names[0] == "wal.html#WAL", "the page found first, its linked pages after it"
    assert "wal-async-commit.html" in names and "disk-usage.html" not in names
    # linked from the topic's chapter, a page is kept down to the floor, as one naming the subject is
    assert "wal-internals.html" in names
    assert surveyed.topic_cut is not None and surveyed.topic_cut > 0.40
