"""The pages a section's sources link to: how research follows a manual's own structure.

A page of a user's folder keeps the links of its content (providers/documents/links.py: a chapter's table of
contents, "see Section 30.5"), stored on its first chunk. Research hands the pages its sources link to to the
relevance gate beside what its queries found, so a section that found a chapter's opening page also sees the
chapter's pages, and one that found a page on WAL sees the settings it links to. A corpus without links (the
Wikipedia openings) gives nothing here.

The links are read from the same in-memory copy of the payloads the lookup by name scans (naming.py), mapped once
per copy: a link with an anchor leads to that section of the page when it was stored as one, else to the page's
opening.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from nexa_research.providers.documents.model import HEADING_SEPARATOR
from nexa_research.providers.search.naming import Corpus, NameLookup
from nexa_research.providers.search.protocol import payload_source, wrapped_backend
from nexa_research.state import Source
from nexa_research.urls import normalize_url


def _page(url: str) -> str:
    return normalize_url(url.split("#", 1)[0])


def _depth(payload: dict[str, Any] | None) -> int:
    """How many headings below the page title a section's title has ("Routine Vacuuming › Recovering Disk Space": 1)."""
    return len(str(payload.get("title") or "").split(HEADING_SEPARATOR)) if payload is not None else 1_000


class PageLinks:
    """For one copy of the payloads: each page's links, and where a link leads (the first chunk of a section)."""

    def __init__(self, corpus: Corpus) -> None:
        self.links: dict[str, list[str]] = {}  # page -> the URIs its content links to
        self.sections: dict[str, dict[str, Any]] = {}  # section URL -> its first chunk
        self.openings: dict[str, dict[str, Any]] = {}  # page -> the first chunk of its opening section
        for payload in corpus.payloads:
            if int(payload.get("chunk") or 0) != 0:
                continue
            url = str(payload.get("url") or "")
            page = _page(str(payload.get("file") or url))
            self.sections.setdefault(normalize_url(url), payload)
            if payload.get("links"):
                self.links[page] = str(payload["links"]).split()
                self.openings[page] = payload  # the section that carries the links opens the page
            elif page not in self.links and _depth(payload) < _depth(self.openings.get(page)):
                self.openings[page] = payload  # else the section nearest the page title: its opening

    def target(self, uri: str) -> dict[str, Any] | None:
        return self.sections.get(normalize_url(uri)) or self.openings.get(_page(uri))


class LinkLookup:
    """The pages linked from a set of pages, over one knowledge base's payloads (shared with its `NameLookup`)."""

    def __init__(self, names: NameLookup) -> None:
        self._names = names
        self._mapped: tuple[Corpus, PageLinks] | None = None
        self._lock = threading.Lock()

    def _links(self) -> PageLinks:
        corpus = self._names.corpus()
        with self._lock:
            if self._mapped is None or self._mapped[0] is not corpus:
                self._mapped = (corpus, PageLinks(corpus))
            return self._mapped[1]

    def linked(self, urls: Sequence[str], limit: int) -> list[Source]:
        """The first chunk of each section or page that the pages of `urls` link to, in the order of `urls` and
        of their links, once each, leaving out the sections of `urls` themselves; at most `limit`."""
        if limit <= 0:
            return []
        links = self._links()
        held = {normalize_url(u) for u in urls}
        out: dict[str, Source] = {}
        uris = [uri for page in dict.fromkeys(_page(u) for u in urls) for uri in links.links.get(page, [])]
        # pages before sections of pages: a chapter's contents list each page's sections after it
        for uri in sorted(uris, key=lambda u: "#" in u):
            target = links.target(uri)
            if target is None or normalize_url(str(target.get("url") or "")) in held:
                continue
            out.setdefault(normalize_url(str(target["url"])), payload_source(target))
            if len(out) >= limit:
                break
        return list(out.values())


@runtime_checkable
class LinkedSearch(Protocol):
    """A backend that can also give the pages its documents link to (the knowledge base can)."""

    async def linked(self, urls: Sequence[str], limit: int) -> list[Source]: ...


def linked_backend(backend: object) -> LinkedSearch | None:
    """The backend, or the one it wraps, when it can follow links; None for a web search."""
    return wrapped_backend(backend, LinkedSearch)
