"""Embedded Qdrant in this process: a folder another client holds, a server that is not there, commits without fsync."""

from __future__ import annotations

import socket
import sqlite3

import pytest
from qdrant_client import QdrantClient

from nexa_research.errors import SearchBackendError
from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase
from support.embedders import TinyEmbedder


def test_a_folder_locked_by_another_client_is_an_error_naming_it_and_the_shared_stores(tmp_path):
    folder = tmp_path / "locked"
    holder = QdrantClient(path=str(folder))  # stands in for another process holding the folder
    try:
        with pytest.raises(SearchBackendError, match=str(folder)) as raised:
            QdrantKnowledgeBase(path=folder)
        assert "NEXA_KB=redis" in str(raised.value) and "QDRANT_URL" in str(raised.value)
    finally:
        holder.close()


def test_an_unreachable_server_is_an_error_naming_its_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(SearchBackendError, match=url):
        QdrantKnowledgeBase(url=url)


def test_embedded_storage_commits_without_an_fsync_per_point(tmp_path):
    with QdrantKnowledgeBase(path=tmp_path / "q", collection="c", embedder=TinyEmbedder()) as kb:
        kb.add_documents([{"url": "https://x.org", "title": "x", "text": "x"}], source="s")
        storage = next((tmp_path / "q").rglob("storage.sqlite"))
        with sqlite3.connect(storage) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with QdrantKnowledgeBase(path=tmp_path / "q", collection="c", embedder=TinyEmbedder()) as reopened:
        assert reopened.count() == 1
