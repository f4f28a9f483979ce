"""The Redis knowledge base on its own terms: the same answers as Qdrant, cosine similarity as scores, whole-chunk
replacement, its failures reported as the store's (and bugs not), the store chosen by settings, and the copy of an
earlier embedded Qdrant store without embedding again."""

from __future__ import annotations

import math
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from redisvl.exceptions import RedisSearchError, RedisVLError

from nexa_research.errors import ResearchInputError, SearchBackendError
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.kb.migration import copy_from_embedded_qdrant, seed_if_empty
from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase
from nexa_research.providers.kb.redis_store import RedisKnowledgeBase
from nexa_research.providers.kb.store import open_knowledge_base, resolve_kb_store
from nexa_research.providers.settings import ProviderSettings
from support.kb_fixtures import NOTES as SHARED_NOTES
from support.kb_fixtures import open_wiki_kb

pytestmark = pytest.mark.redis

QUERIES = ["printing press Gutenberg", "photosynthesis in plants", "Renaissance painting", "ancient Egypt",
           "the French Revolution", "music theory and harmony"]
NOTES = [
    *SHARED_NOTES,
    {"url": "https://example.org/moon", "title": "The Moon", "published": "2001-01-01",
     "text": "The Moon is Earth's only natural satellite; its gravity drives the tides."},
]


def fresh_name() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


class CountingEmbedder:
    """The real MiniLM, counting what it embeds."""

    dim = 384

    def __init__(self) -> None:
        self.embedded = 0

    def embed(self, texts):
        self.embedded += len(texts)
        return default_embedder().embed(texts)


@pytest.mark.parametrize("filters", [None, {"published_before": "2020-01-01"}, {"source": "wikipedia"}])
def test_redis_ranks_the_wikipedia_subset_as_qdrant_does_with_the_same_scores(
    wiki_kb_data_dir, redis_stack_url, filters
):
    with open_wiki_kb("redis", wiki_kb_data_dir, redis_stack_url) as redis_kb, \
         open_wiki_kb("qdrant", wiki_kb_data_dir, redis_stack_url) as qdrant_kb:  # fmt: skip
        assert redis_kb.count() == qdrant_kb.count() > 150
        for query in QUERIES:
            ours = redis_kb.search(query, k=8, filters=filters)
            theirs = qdrant_kb.search(query, k=8, filters=filters)
            assert [(h.url, h.chunk) for h in ours] == [(h.url, h.chunk) for h in theirs], query
            assert all(math.isclose(a.score, b.score, abs_tol=1e-5) for a, b in zip(ours, theirs)), query


def test_both_stores_fed_the_same_documents_answer_alike(redis_stack_url, tmp_path):
    """Ingested separately (each embeds), not copied: what a user who ingests into either store gets."""
    name = fresh_name()
    with RedisKnowledgeBase(redis_stack_url, collection=name) as redis_kb, \
         QdrantKnowledgeBase(path=tmp_path / "q", collection=name) as qdrant_kb:  # fmt: skip
        for kb in (redis_kb, qdrant_kb):
            kb.add_documents(NOTES, source="notes")
        for query, filters in [("what causes the tides", None), ("baking", None),
                               ("the moon", {"published_after": "2000-01-01"})]:
            ours, theirs = redis_kb.search(query, k=3, filters=filters), qdrant_kb.search(query, k=3, filters=filters)
            assert [h.url for h in ours] == [h.url for h in theirs], query
            assert all(math.isclose(a.score, b.score, abs_tol=1e-4) for a, b in zip(ours, theirs)), query


class AxisEmbedder:
    """Texts mapped to fixed 2-d directions, so the expected cosine is known exactly."""

    dim = 2
    directions = {"east": [1.0, 0.0], "north": [0.0, 1.0], "north-east": [1.0, 1.0], "south-west": [-1.0, -1.0]}

    def embed(self, texts):
        return [self.directions[text.split("\n")[-1]] for text in texts]


def test_scores_are_cosine_similarity_not_redis_distance(redis_stack_url):
    with RedisKnowledgeBase(redis_stack_url, collection=fresh_name(), embedder=AxisEmbedder()) as kb:
        kb.add_documents([{"url": f"https://x.org/{t}", "title": "t", "text": t} for t in ("east", "north", "north-east")],
                         source="s")
        hits = kb.search("east", k=3)
        assert [h.text for h in hits] == ["east", "north-east", "north"]
        assert [round(h.score, 5) for h in hits] == [1.0, round(math.sqrt(0.5), 5), 0.0]
        assert [h.text for h in kb.search("east", k=3, score_threshold=0.5)] == ["east", "north-east"]
        assert [round(h.score, 5) for h in kb.search("south-west", k=1)] == [round(-math.sqrt(0.5), 5)]


def test_a_new_version_replaces_the_whole_chunk_its_old_date_included(redis_stack_url):
    with RedisKnowledgeBase(redis_stack_url, collection=fresh_name()) as kb:
        kb.add_documents([{"url": "https://x.org/a", "title": "A", "text": "Tides and the Moon.", "published": "2021-01-01"}],
                         source="s")
        assert kb.count({"published_after": "2020-01-01"}) == 1
        kb.add_documents([{"url": "https://x.org/a", "title": "A", "text": "Tides and the Moon."}], source="s")
        assert kb.count({"published_after": "2020-01-01"}) == 0 and kb.count() == 1
        assert kb.search("tides", k=1)[0].published is None


def test_processes_opening_a_new_index_at_once_all_succeed(redis_stack_url):
    name = fresh_name()

    def open_and_count(_: int) -> int:
        with RedisKnowledgeBase(redis_stack_url, collection=name) as kb:
            return kb.count()

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(open_and_count, range(6))) == [0] * 6


@pytest.fixture
def closed_redis_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_an_unreachable_redis_is_an_error_naming_it(closed_redis_url):
    with pytest.raises(SearchBackendError, match=closed_redis_url.split("/0")[0]):
        RedisKnowledgeBase(closed_redis_url, collection=fresh_name())


def test_redis_going_away_fails_a_search_as_the_store_failing(redis_stack_factory):
    server = redis_stack_factory()
    kb = RedisKnowledgeBase(server.start(), collection=fresh_name())
    try:
        kb.add_documents(NOTES, source="notes")
        server.stop()
        with pytest.raises(SearchBackendError, match="knowledge base search failed"):
            kb.search("tides", k=2)
    finally:
        kb.close()


def test_a_bug_redisvl_wraps_is_not_reported_as_the_store_failing(redis_stack_url, monkeypatch):
    with RedisKnowledgeBase(redis_stack_url, collection=fresh_name()) as kb:
        kb.add_documents(NOTES[:1], source="notes")

        def broken_search(*args, **kwargs):
            try:
                raise TypeError("a bug in how we call redisvl")
            except TypeError as exc:
                raise RedisSearchError(f"Unexpected error while searching: {exc}") from exc

        monkeypatch.setattr(kb._index, "search", broken_search)
        with pytest.raises(RedisVLError) as raised:
            kb.search("tides", k=1)
        assert not isinstance(raised.value, SearchBackendError)


def test_a_collection_name_that_cannot_be_a_key_prefix_is_refused(redis_stack_url):
    with pytest.raises(ResearchInputError, match="collection"):
        RedisKnowledgeBase(redis_stack_url, collection="a*b")


def test_the_store_is_redis_unless_qdrant_is_configured(tmp_path, redis_stack_url):
    base = {"data_dir": tmp_path, "redis_url": redis_stack_url, "qdrant_collection": fresh_name()}
    assert resolve_kb_store(ProviderSettings(**base)) == "redis"
    assert resolve_kb_store(ProviderSettings(**base, qdrant_url="http://qdrant.example:6333")) == "qdrant"
    assert resolve_kb_store(ProviderSettings(**base, qdrant_url="http://q:6333", kb_store="redis")) == "redis"
    with open_knowledge_base(ProviderSettings(**base)) as kb:
        assert kb.store == "redis" and kb.location == redis_stack_url
    with open_knowledge_base(ProviderSettings(**base, kb_store="qdrant")) as kb:
        assert kb.store == "qdrant" and kb.location == str(tmp_path.resolve() / "qdrant")


def test_an_earlier_embedded_qdrant_store_is_copied_without_embedding_again(tmp_path, redis_stack_url):
    settings = ProviderSettings(data_dir=tmp_path, redis_url=redis_stack_url, qdrant_collection=fresh_name())
    with QdrantKnowledgeBase(path=tmp_path / "qdrant", collection=settings.qdrant_collection) as old:
        chunks = old.add_documents(NOTES, source="notes")
    embedder = CountingEmbedder()
    with RedisKnowledgeBase(redis_stack_url, collection=settings.qdrant_collection, embedder=embedder) as kb:
        assert seed_if_empty(kb, settings, progress=False).startswith(f"copied {chunks} chunks from embedded Qdrant")
        assert embedder.embedded == 0 and kb.count() == chunks == len(NOTES)
        assert kb.count({"published_before": "2020-01-01"}) == 3
        assert kb.search("why are there tides", k=1)[0].url == "https://example.org/tides"
        assert copy_from_embedded_qdrant(kb, settings, progress=False) == chunks  # idempotent
        assert seed_if_empty(kb, settings, progress=False) is None  # not empty any more
    QdrantKnowledgeBase(path=tmp_path / "qdrant", collection=settings.qdrant_collection).close()  # lock released


def test_copying_with_no_earlier_store_says_what_to_do(tmp_path, redis_stack_url):
    settings = ProviderSettings(data_dir=tmp_path, redis_url=redis_stack_url, qdrant_collection=fresh_name())
    with RedisKnowledgeBase(redis_stack_url, collection=settings.qdrant_collection) as kb:
        with pytest.raises(ResearchInputError, match="nexa ingest wikipedia"):
            copy_from_embedded_qdrant(kb, settings, progress=False)

