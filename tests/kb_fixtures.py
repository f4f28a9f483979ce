"""Shared knowledge-base fixtures: a real embedded Qdrant store holding a subset of the offline Wikipedia corpus.

Register with `pytest_plugins = ["kb_fixtures"]` in tests/conftest.py, or import the fixtures into a test module.
The subset is the first `WIKI_SUBSET_SIZE` articles plus every article whose title contains one of
`WIKI_SUBSET_KEYWORDS`, so topics like the printing press or photosynthesis have real, checkable sources.
Embedding it costs tens of seconds on two cores, so it is built once per session (even if both registered and
imported) and must not be modified by tests beyond idempotent re-ingests.

Embedded Qdrant locks its folder per process: a subprocess (server, CLI) may open `wiki_kb_data_dir` only while
no `KnowledgeBase` or `qdrant` backend on it is open in the test process (close backends you build).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nexa_research.providers.ingest import WIKI_SOURCE, wikipedia_documents
from nexa_research.providers.knowledge_base import KnowledgeBase
from nexa_research.providers.qdrant_search import QdrantSearch
from nexa_research.providers.settings import ProviderSettings

WIKI_SUBSET_SIZE = 150
WIKI_SUBSET_KEYWORDS = ("print", "gutenberg", "renaissance", "photosynthesis")
KB_COLLECTION = "nexa_kb"

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
def wiki_kb_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir (as NEXA_DATA_DIR) whose `qdrant/` folder holds the subset in collection `nexa_kb`."""
    if "wiki" not in _built:
        data_dir = tmp_path_factory.mktemp("nexa-data")
        kb = KnowledgeBase(path=data_dir / "qdrant", collection=KB_COLLECTION)
        try:
            kb.add_documents(wiki_subset(), source=WIKI_SOURCE)
        finally:
            kb.close()
        _built["wiki"] = data_dir
    return _built["wiki"]


@pytest.fixture
def wiki_kb(wiki_kb_data_dir: Path) -> Iterator[KnowledgeBase]:
    """Opened per test (milliseconds) so the folder's lock is free between tests, e.g. for a server subprocess."""
    kb = KnowledgeBase(path=wiki_kb_data_dir / "qdrant", collection=KB_COLLECTION)
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def wiki_kb_settings(wiki_kb_data_dir: Path) -> ProviderSettings:
    """Settings that make the `qdrant` backend (backend_from_settings) open the subset store."""
    return ProviderSettings(data_dir=wiki_kb_data_dir, qdrant_url=None, qdrant_collection=KB_COLLECTION)


@pytest.fixture
def wiki_search(wiki_kb: KnowledgeBase) -> QdrantSearch:
    return QdrantSearch(wiki_kb)
