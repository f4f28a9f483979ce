"""The knowledge base and the `kb` search backend, on each store (Redis Stack, embedded Qdrant) with the real MiniLM
model. Store-specific behaviour: test_redis_kb.py; the part of Qdrant's that is its own is at the end here."""

from __future__ import annotations

import asyncio

import pytest
import torch
from threadpoolctl import threadpool_info

from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError, SearchBackendError
from nexa_research.providers.kb.filters import SearchFilters
from nexa_research.providers.kb.ingest import WIKI_SOURCE
from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase
from nexa_research.providers.search.knowledge_base import KnowledgeBaseSearch
from nexa_research.providers.search.protocol import SearchBackend, source_id
from nexa_research.providers.search.registry import build_search_backend
from support.embedders import TinyEmbedder
from support.kb_fixtures import KB_COLLECTION, NOTES, wiki_subset

GUTENBERG_ARTICLES = {
    "https://en.wikipedia.org/wiki/Printing_press",
    "https://en.wikipedia.org/wiki/Johannes_Gutenberg",
    "https://en.wikipedia.org/wiki/Gutenberg_Bible",
}

@pytest.fixture
def small_kb(make_kb):
    return make_kb()


def test_reingesting_the_same_articles_keeps_the_point_count(wiki_kb):
    before = wiki_kb.count()
    returned = wiki_kb.add_documents(wiki_subset(), source=WIKI_SOURCE)
    assert before > len(wiki_subset()) - 1
    assert wiki_kb.count() == before == returned


def test_a_shorter_new_version_replaces_all_old_chunks(small_kb):
    long_text = " ".join(f"Paragraph {i} about tidal forces and the orbit of the Moon." for i in range(60))
    assert small_kb.add_documents([{"url": "https://example.org/doc", "title": "Doc", "text": long_text}], source="t") > 2
    small_kb.add_documents([{"url": "https://example.org/doc/", "title": "Doc", "text": "Now it is about bread."}], source="t")
    assert small_kb.count() == 1
    assert [h.text for h in small_kb.search("bread", k=5)] == ["Now it is about bread."]


async def test_gutenberg_query_finds_the_relevant_wikipedia_article_first(wiki_search):
    results = await wiki_search.search("printing press Gutenberg", k=5)
    assert results, "no results"
    assert results[0]["url"] in GUTENBERG_ARTICLES
    assert all(r["url"].startswith("https://en.wikipedia.org/wiki/") for r in results)
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert all(r["id"] == source_id(r["url"], r["text"]) for r in results)
    assert all(r["score"] >= wiki_search.score_threshold for r in results)


async def test_unrelated_results_fall_below_the_threshold(wiki_kb):
    strict = KnowledgeBaseSearch(wiki_kb, score_threshold=0.9)
    assert await strict.search("printing press Gutenberg", k=5) == []


async def test_filters_select_by_source_and_publication_date(small_kb):
    small_kb.add_documents(NOTES, source="notes")
    small_kb.add_documents([{"url": "https://en.wikipedia.org/wiki/Tide", "title": "Tide",
                             "text": "Tides are the rise and fall of sea levels caused by the Moon."}], source="wikipedia")
    search = KnowledgeBaseSearch(small_kb, score_threshold=-1.0)  # every match, whatever its score

    notes_only = await search.search("tides and the moon", k=10, filters={"source": "notes"})
    assert {r["url"] for r in notes_only} == {d["url"] for d in NOTES}

    after = await search.search("tides and the moon", k=10, filters={"published_after": "2020-01-01"})
    assert {r["url"] for r in after} == {"https://example.org/volcano"}

    before = await search.search("tides and the moon", k=10, filters={"published_before": "2020-01-01"})
    assert {r["url"] for r in before} == {
        "https://example.org/tides", "https://example.org/bread", "https://en.wikipedia.org/wiki/Tide",
    }
    assert {r["published"] for r in before} == {"2019-05-01", None}

    both = await search.search("tides", k=10, filters={"source": "notes", "published_after": "2019-01-01",
                                                        "published_before": "2021-01-01"})
    assert [r["url"] for r in both] == ["https://example.org/tides"]
    assert small_kb.count({"source": "wikipedia"}) == 1


async def test_bad_filters_are_refused_with_the_key_named(small_kb):
    small_kb.add_documents(NOTES, source="notes")
    search = KnowledgeBaseSearch(small_kb)
    with pytest.raises(ResearchInputError, match="published_after"):
        await search.search("tides", k=3, filters={"published_after": "last spring"})
    with pytest.raises(ResearchInputError, match="language"):
        await search.search("tides", k=3, filters={"language": "en"})


async def test_the_same_text_under_two_urls_is_returned_once(small_kb):
    text = "The Gutenberg press used movable metal type to print books in fifteenth-century Mainz."
    small_kb.add_documents([{"url": "https://a.example/press", "title": "A", "text": text},
                            {"url": "https://b.example/press", "title": "A", "text": text},
                            *NOTES], source="notes")
    results = await KnowledgeBaseSearch(small_kb, score_threshold=0.0).search("Gutenberg movable type", k=3)
    assert len([r for r in results if "Gutenberg" in r["text"]]) == 1
    assert len(results) == 3


async def test_an_empty_knowledge_base_says_how_to_fill_it(small_kb):
    with pytest.raises(SearchBackendError, match="empty"):
        await KnowledgeBaseSearch(small_kb).search("anything", k=3)


@pytest.mark.parametrize("name", ["auto", "kb", "qdrant"])  # `qdrant`: the backend's name before it had two stores
async def test_the_registry_builds_the_kb_backend_from_settings(wiki_kb_settings, name):
    backend = build_search_backend(ResearchConfig(search_backend=name), wiki_kb_settings)
    try:
        assert isinstance(backend, SearchBackend) and backend.name == "kb"
        assert backend.kb.store == "redis"  # the default store
        results = await backend.search("photosynthesis in plants", k=3)
        assert results[0]["url"] == "https://en.wikipedia.org/wiki/Photosynthesis"
    finally:
        backend.close()


def test_a_store_made_with_another_embedder_is_refused(make_kb):
    with make_kb(TinyEmbedder()) as tiny:
        assert tiny.add_documents([{"url": "https://x.org", "title": "x", "text": "x"}], source="s") == 1
    with pytest.raises(SearchBackendError, match="size 8"):
        make_kb()


def test_a_malformed_publication_date_is_refused(make_kb):
    with make_kb(TinyEmbedder()) as kb:
        with pytest.raises(ResearchInputError, match="https://x.org/a"):
            kb.add_documents([{"url": "https://x.org/a", "title": "a", "text": "a", "published": "May 2020"}], source="s")
        assert kb.count() == 0


def test_the_python_and_store_forms_of_a_filter_agree(make_kb):
    dates = [None, "2019-05-01", "2020-01-01", "2020-01-01T23:00:00+00:00", "2020-01-02T01:00:00+02:00", "2024-12-31"]
    docs = [{"url": f"https://x.org/{i}", "title": str(i), "text": f"doc {i}", "published": d}
            for i, d in enumerate(dates)]
    filters = [{"source": "a"}, {"published_after": "2020-01-01"}, {"published_before": "2020-01-01"},
               {"published_before": "2020-01-01T23:30:00Z"}, {"published_after": "2020-01-01", "source": "b"},
               {"published_after": "2019-01-01", "published_before": "2020-06-01"}]
    with make_kb(TinyEmbedder()) as kb:
        kb.add_documents(docs[:3], source="a")
        kb.add_documents(docs[3:], source="b")
        payloads = [{"source": "a" if i < 3 else "b", "published": d["published"]} for i, d in enumerate(docs)]
        for f in filters:
            expected = sum(SearchFilters.parse(f).matches(p) for p in payloads)
            assert kb.count(f) == expected, f


def test_a_filtered_search_finds_rare_matches_beyond_the_ranking_window(small_kb):
    tides = [{"url": f"https://x.org/tide{i}", "title": f"Tides {i}", "text": f"Tides rise and fall with the Moon, part {i}."}
             for i in range(12)]
    small_kb.add_documents(tides, source="a")
    small_kb.add_documents([{"url": "https://x.org/bread", "title": "Bread", "text": "Bread is baked from flour."}],
                           source="b")
    small_kb.prefilter_window = 5  # embedded Qdrant's shortcut (kb_filters); Redis filters inside the query
    hits = small_kb.search("tides and the moon", k=1, filters={"source": "b"})
    assert [h.url for h in hits] == ["https://x.org/bread"]
    assert [h.source for h in small_kb.search("tides and the moon", k=3, filters={"source": "a"})] == ["a"] * 3


async def test_concurrent_searches_match_sequential_ones_and_leave_thread_settings_alone(wiki_search):
    blas_before = [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]
    torch_before = torch.get_num_threads()
    queries = ["printing press", "photosynthesis", "Renaissance art", "Gutenberg Bible",
               "printmaking techniques", "chlorophyll and light", "fingerprint", "music of the Renaissance"]
    sequential = [await wiki_search.search(q, k=3) for q in queries]
    concurrent = await asyncio.gather(*(wiki_search.search(q, k=3) for q in queries))
    assert [[r["id"] for r in rs] for rs in concurrent] == [[r["id"] for r in rs] for rs in sequential]
    assert [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"] == blas_before
    assert torch.get_num_threads() == torch_before


class CountingEmbedder:
    """Counts the texts it embeds; vectors say nothing."""

    dim = 8

    def __init__(self):
        self.embedded = 0

    def embed(self, texts):
        self.embedded += len(texts)
        return [[1.0] + [0.0] * 7 for _ in texts]


def test_progress_counts_chunks_and_unchanged_chunks_are_not_embedded_again(make_kb):
    docs = [{"url": f"https://x.org/{i}", "title": str(i), "text": f"document {i} " * (i * 30 + 1)} for i in range(6)]
    embedder = CountingEmbedder()
    with make_kb(embedder) as kb:
        seen = []
        total = kb.add_documents(docs, source="s", progress=lambda done, of: seen.append((done, of)), batch_size=2)
        assert total > len(docs) and embedder.embedded == total
        assert seen[0] == (0, total) and seen[-1] == (total, total)
        assert [done for done, _ in seen] == sorted(done for done, _ in seen) and len(seen) > 2

        seen.clear()
        assert kb.add_documents(docs, source="s", progress=lambda done, of: seen.append((done, of))) == total
        assert embedder.embedded == total, "unchanged chunks were embedded again"
        assert seen == [(0, total), (total, total)]

        docs[0]["text"] = "changed"
        kb.add_documents(docs, source="s")
        assert embedder.embedded == total + 1 and kb.count() == total


# Embedded Qdrant's own behaviour


def test_two_knowledge_bases_share_one_folder_in_a_process(wiki_kb_data_dir):
    first = QdrantKnowledgeBase(path=wiki_kb_data_dir / "qdrant", collection=KB_COLLECTION)
    other = QdrantKnowledgeBase(path=wiki_kb_data_dir / "qdrant", collection=KB_COLLECTION)
    assert other.count() == first.count()
    other.close()
    assert first.count() > 0  # closing one share leaves the client open for the other
    first.close()




async def test_a_search_hands_its_hits_stored_vectors_to_the_relevance_scorer(wiki_search, monkeypatch):
    """The gate scores each hit as `embedded_text(title, text)`, the text the store embedded at ingest: scoring the
    hits of a knowledge-base search embeds nothing again (it was most of a run's CPU, bench/README.md)."""
    from nexa_research.providers.relevance import EmbeddingRelevance, default_relevance, embedded_text

    scorer = default_relevance()
    assert isinstance(scorer, EmbeddingRelevance) and scorer.embedder is wiki_search.kb.embedder
    monkeypatch.setattr(scorer, "_cache", type(scorer._cache)())  # nothing scored before this test counts
    results = await wiki_search.search("printing press Gutenberg movable type", k=5)
    embedded: list[str] = []
    real_embed = type(scorer.embedder).embed
    monkeypatch.setattr(type(scorer.embedder), "embed", lambda self, texts: embedded.extend(texts) or real_embed(self, texts))
    texts = [embedded_text(r["title"], r["text"]) for r in results]
    hits = scorer.vectors(texts)
    assert results and embedded == []
    # and they are the vectors the scorer would have made itself
    fresh = scorer.embedder.embed(texts)
    assert float(min((hits * fresh).sum(axis=1))) > 0.999


async def test_the_lookup_by_name_finds_the_documents_naming_a_subject_and_sees_a_new_ingest(small_kb):
    """The Black Death's case: the articles that name it are not near it in meaning, so only a lookup by name finds
    them. The subject's own article is left out (the search by meaning finds it), the document naming the
    subject most often comes first, words match whole (plural allowed), and a new ingest is seen."""
    small_kb.add_documents([
        {"url": "https://x.org/bd", "title": "Black Death", "text": "The Black Death was a plague pandemic."},
        {"url": "https://x.org/hyw", "title": "Hundred Years' War",
         "text": "The war was a series of conflicts. It was interrupted by the Black Death."},
        {"url": "https://x.org/seal", "title": "The Seventh Seal",
         "text": "A knight returns during the Black Death. The Black Deaths of film are many."},
        {"url": "https://x.org/dye", "title": "Blackdeathly", "text": "Blackdeath dye is a colour, not a plague."},
    ], source="t")
    search = KnowledgeBaseSearch(small_kb)
    found = await search.naming(["Black Death"], limit=10)
    assert [s["title"] for s in found] == ["The Seventh Seal", "Hundred Years' War"]
    assert all(s["chunk"] == 0 and s["text"] for s in found)
    assert [s["title"] for s in await search.naming(["Black Death"], limit=1)] == ["The Seventh Seal"]
    small_kb.add_documents([{"url": "https://x.org/e3", "title": "Edward III",
                             "text": "His reign saw the ravages of the Black Death."}], source="t")
    assert {s["title"] for s in await search.naming(["black death"], limit=10)} == {
        "The Seventh Seal", "Hundred Years' War", "Edward III"}
    assert await search.naming([], limit=10) == []
