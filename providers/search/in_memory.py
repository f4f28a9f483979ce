"""An in-memory search backend over a given list of documents, for tests, notebooks and small private corpora.

Scoring is plain term overlap (no embeddings), so results are deterministic and need nothing installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from nexa_research.providers.search.protocol import make_source
from nexa_research.state import Source

_WORD = re.compile(r"[\w']+")


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


class InMemorySearch:
    """Ranks documents by the share of query terms they contain; documents with no shared term are not returned."""

    name = "in_memory"

    def __init__(self, documents: Iterable[Mapping[str, Any]]) -> None:
        self._sources: list[Source] = [
            make_source(
                url=d["url"],
                title=d.get("title", ""),
                text=d["text"],
                published=d.get("published"),
            )
            for d in documents
        ]
        self._terms = [_terms(f"{s['title']} {s['text']}") for s in self._sources]
        self._origin = [str(d.get("source", "memory")) for d in documents]

    async def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Source]:
        wanted = _terms(query)
        if not wanted:
            return []
        filters = filters or {}
        scored: list[tuple[float, int]] = []
        for i, terms in enumerate(self._terms):
            if "source" in filters and self._origin[i] != filters["source"]:
                continue
            published = self._sources[i]["published"] or ""
            if filters.get("published_after") and published < filters["published_after"]:
                continue
            if filters.get("published_before") and published and published > filters["published_before"]:
                continue
            overlap = len(wanted & terms) / len(wanted)
            if overlap > 0:
                scored.append((overlap, i))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [Source(**{**self._sources[i], "score": round(score, 4)}) for score, i in scored[:k]]
