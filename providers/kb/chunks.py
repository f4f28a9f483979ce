"""How documents become stored chunks, the same for every knowledge-base store: split, id, payload, unit vector.

A chunk's id is uuid5 of (normalised URL, chunk number), so re-ingesting a document lands on the same ids in any
store (and a store can be copied into another without re-embedding: the ids and payloads carry over unchanged).
The payload is plain JSON-able data; what a store keeps beside it (the vector, index fields) is its own business.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from nexa_research.errors import ResearchInputError
from nexa_research.providers.kb.filters import parse_iso
from nexa_research.providers.relevance import embedded_text
from nexa_research.urls import normalize_url

logger = logging.getLogger(__name__)

CHUNK_SIZE = 800
CHUNK_OVERLAP = 100
# what a user's file carries beside (kb/file_ingest.py): the file's URI (a chunk's url may add a section anchor)
# and the SHA-256 of its bytes, so a re-ingest skips it unchanged. Absent, not None, on other documents, so a
# Wikipedia chunk's payload is what it always was and is never re-embedded for it.
# A page of a user's folder also carries the pages it links to (`links`: space-separated URIs, documents/links.py),
# on its first chunk only: research follows them from the page, and a copy on every chunk would be megabytes.
OPTIONAL_PAYLOAD_KEYS = ("file", "sha256", "links")
FIRST_CHUNK_KEYS = frozenset({"links"})
PAYLOAD_KEYS = ("url", "title", "text", "source", "published", "chunk", "chunks", *OPTIONAL_PAYLOAD_KEYS)


def stored_payload(values: Mapping[str, Any]) -> dict[str, Any]:
    """The payload keys of a stored record; optional keys only when they hold a value."""
    return {k: values.get(k) for k in PAYLOAD_KEYS if k not in OPTIONAL_PAYLOAD_KEYS or values.get(k) is not None}


class ChunkRecord(NamedTuple):
    """One chunk to store: its id, its payload, and the text that is embedded (title and chunk)."""

    id: str
    payload: dict[str, Any]
    embed_text: str


class StoredPoint(NamedTuple):
    """One chunk as a store holds it, vector included: what moves when a store is copied into another."""

    id: str
    payload: dict[str, Any]
    vector: list[float]


@dataclass(frozen=True)
class Hit:
    """One stored chunk returned by a search, with its cosine similarity and (when asked) its vector."""

    url: str
    title: str
    text: str
    source: str
    published: str | None
    chunk: int
    score: float
    vector: list[float] | None = None

    @property
    def payload(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.title, "text": self.text, "source": self.source,
                "published": self.published, "chunk": self.chunk}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], score: float, vector: list[float] | None = None) -> Hit:
        return cls(url=payload.get("url", ""), title=payload.get("title", ""), text=payload.get("text", ""),
                   source=payload.get("source", ""), published=payload.get("published"),
                   chunk=int(payload.get("chunk", 0)), score=float(score), vector=vector)


def point_id(url: str, chunk: int) -> str:
    """Deterministic id of one chunk, so the same document always lands on the same points."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{normalize_url(url)}#{chunk}"))


def published_iso(value: Any, url: str) -> str | None:
    """Stored as an ISO string, checked now: a malformed date would silently never match a date filter."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    parse_iso(value, f"document {url}: published")
    return str(value)


def unit_vectors(vectors: Sequence[Sequence[float]], dim: int) -> np.ndarray:
    """L2-normalised float32 rows, whatever the embedder did: stores rank by cosine and de-duplication takes the
    dot product as the cosine. A vector of the wrong size is a bug in the embedder, refused here as a ValueError
    (a store would report it as its own failure, and a bug must not pass for an outage)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ValueError(f"the embedder gave vectors of shape {matrix.shape}; the knowledge base stores {dim} dims")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Chunker:
    """Splits documents into overlapping chunks and gives each its id and payload."""

    def __init__(self, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> None:
        self._splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)

    def split(self, text: str) -> list[str]:
        return [c.strip() for c in self._splitter.split_text(text) if c.strip()]

    def records(self, documents: Iterable[Mapping[str, Any]], source: str) -> list[ChunkRecord]:
        """Every chunk of `documents` ({url, title, text, published?}); a later copy of the same URL wins."""
        by_url: dict[str, Mapping[str, Any]] = {}
        for i, doc in enumerate(documents):
            url = str(doc.get("url") or "").strip()
            if not url:
                raise ResearchInputError(f"document #{i} ({doc.get('title')!r}) has no url")
            by_url[normalize_url(url)] = doc
        records: list[ChunkRecord] = []
        for doc in by_url.values():
            url, title = str(doc["url"]).strip(), str(doc.get("title") or doc["url"]).strip()
            published = published_iso(doc.get("published"), url)
            chunks = self.split(str(doc.get("text") or ""))
            if not chunks:
                logger.warning("knowledge base: document %s has no text; nothing stored for it", url)
            for n, text in enumerate(chunks):
                payload = {"url": url, "title": title, "text": text, "source": source,
                           "published": published, "chunk": n, "chunks": len(chunks)}
                payload.update({k: str(doc[k]) for k in OPTIONAL_PAYLOAD_KEYS
                                if doc.get(k) and (n == 0 or k not in FIRST_CHUNK_KEYS)})
                records.append(ChunkRecord(point_id(url, n), payload, embedded_text(title, text)))
        return records
