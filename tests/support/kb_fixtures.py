"""Shared knowledge-base fixtures: a subset of the offline Wikipedia corpus in BOTH stores, and fresh stores per test.

Register with `pytest_plugins = ["kb_fixtures"]` in tests/conftest.py, or import the fixtures into a test module.
The subset is the first `WIKI_SUBSET_SIZE` articles plus every article whose title contains one of
`WIKI_SUBSET_KEYWORDS`, so topics like the printing press or photosynthesis have real, checkable sources.
Embedding it costs tens of seconds on two cores, so it is embedded once per session, into embedded Qdrant, and
copied (vectors included) into the session's Redis Stack; tests must not change it beyond idempotent re-ingests.

`wiki_kb_data_dir` is a data folder (NEXA_DATA_DIR) for subprocesses: its `redis/` is the session Redis Stack's
folder, so a process without REDIS_URL shares that server (and its `nexa_kb` index) as it would share the
embedded Redis of another nexa process; its `qdrant/` holds the embedded Qdrant copy, which a subprocess may open
(NEXA_KB=qdrant) only while no Qdrant knowledge base on it is open in the test process.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nexa_research.providers.kb.embeddings import Embedder
from nexa_research.providers.kb.ingest import WIKI_SOURCE, wikipedia_documents
from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase
from nexa_research.providers.kb.redis_store import RedisKnowledgeBase
from nexa_research.providers.kb.store import KnowledgeBase
from nexa_research.providers.search.knowledge_base import KnowledgeBaseSearch
from nexa_research.providers.services.redis_server import EmbeddedRedis
from nexa_research.providers.settings import ProviderSettings

WIKI_SUBSET_SIZE = 150
WIKI_SUBSET_KEYWORDS = ("print", "gutenberg", "renaissance", "photosynthesis")
KB_COLLECTION = "nexa_kb"
KB_STORES = ("redis", "qdrant")

# Three dated or undated notes for filter and search tests.
NOTES = [
    {"url": "https://example.org/tides", "title": "Tides", "published": "2019-05-01",
     "text": "Ocean tides are caused by the gravitational pull of the Moon and the Sun on the Earth's oceans."},
    {"url": "https://example.org/volcano", "title": "Volcanoes", "published": "2022-03-15",
     "text": "A volcano is a rupture in the crust of a planet where lava, ash and gases escape."},
    {"url": "https://example.org/bread", "title": "Bread", "published": None,
     "text": "Bread is a staple food made from flour and water, usually leavened with yeast and baked."},
]

_built: dict[str, Path] = {}


def wiki_subset() -> list[dict[str, Any]]:
    """The fixture's documents, in a stable order."""
    docs = wikipedia_documents()
    picked = docs[:WIKI_SUBSET_SIZE]
    chosen = {d["url"] for d in picked}
    for doc in docs[WIKI_SUBSET_SIZE:]:
        if doc["url"] not in chosen and any(k in doc["title"].lower() for k in WIKI_SUBSET_KEYWORDS):
            picked.append(doc)
            chosen.add(doc["url"])
    return picked


@pytest.fixture(scope="session")
def wiki_kb_data_dir(tmp_path_factory: pytest.TempPathFactory, redis_stack: EmbeddedRedis) -> Path:
    """A data dir (as NEXA_DATA_DIR) whose knowledge base, in either store, holds the subset in `nexa_kb`."""
    if "wiki" not in _built:
        data_dir = tmp_path_factory.mktemp("nexa-data")
        (data_dir / "redis").symlink_to(redis_stack.data_dir, target_is_directory=True)
        with QdrantKnowledgeBase(path=data_dir / "qdrant", collection=KB_COLLECTION) as qdrant:
            qdrant.add_documents(wiki_subset(), source=WIKI_SOURCE)
            with RedisKnowledgeBase(redis_stack.url, collection=KB_COLLECTION) as redis_kb:  # type: ignore[arg-type]
                redis_kb.import_points(qdrant.export())
        _built["wiki"] = data_dir
    return _built["wiki"]


def open_wiki_kb(store: str, data_dir: Path, redis_url: str) -> KnowledgeBase:
    if store == "redis":
        return RedisKnowledgeBase(redis_url, collection=KB_COLLECTION)
    return QdrantKnowledgeBase(path=data_dir / "qdrant", collection=KB_COLLECTION)


@pytest.fixture(params=KB_STORES)
def wiki_kb(request: pytest.FixtureRequest, wiki_kb_data_dir: Path, redis_stack_url: str) -> Iterator[KnowledgeBase]:
    """The subset in each store in turn; opened per test (milliseconds) so embedded Qdrant's folder lock is free
    between tests, e.g. for a server subprocess."""
    kb = open_wiki_kb(request.param, wiki_kb_data_dir, redis_stack_url)
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def wiki_kb_settings(wiki_kb_data_dir: Path, redis_stack_url: str) -> ProviderSettings:
    """Settings that make the `kb` backend (backend_from_settings) open the subset in the default store (Redis)."""
    return ProviderSettings(data_dir=wiki_kb_data_dir, qdrant_url=None, qdrant_collection=KB_COLLECTION,
                            redis_url=redis_stack_url, kb_store="auto")


@pytest.fixture
def wiki_search(wiki_kb: KnowledgeBase) -> KnowledgeBaseSearch:
    return KnowledgeBaseSearch(wiki_kb)


KBFactory = Callable[..., KnowledgeBase]


@pytest.fixture(params=KB_STORES)
def make_kb(request: pytest.FixtureRequest, tmp_path: Path, redis_stack_url: str) -> Iterator[KBFactory]:
    """`make_kb(embedder=None)` opens an empty knowledge base of each store in turn (a fresh collection in the
    session Redis, a fresh embedded Qdrant folder); the same call again reopens the same collection."""
    collection = f"test_{uuid.uuid4().hex[:12]}"
    opened: list[KnowledgeBase] = []

    def make(embedder: Embedder | None = None) -> KnowledgeBase:
        if request.param == "redis":
            kb: KnowledgeBase = RedisKnowledgeBase(redis_stack_url, collection=collection, embedder=embedder)
        else:
            kb = QdrantKnowledgeBase(path=tmp_path / "qdrant", collection=collection, embedder=embedder)
        opened.append(kb)
        return kb

    yield make
    for kb in opened:
        kb.close()
