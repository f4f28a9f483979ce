"""The search contract every backend implements, and the constructor that gives sources their stable ids.

A backend is anything with `name` and `async search(query, k, filters) -> list[Source]`. Backends raise
`SearchBackendError` for failures of the service behind them (network, auth, rate limits); the research
node retries those and then reports the section as missing. Any other exception is a bug and surfaces.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol, runtime_checkable

from nexa_research.state import Source
from nexa_research.urls import normalize_url


@runtime_checkable
class SearchBackend(Protocol):
    """A place to search: the local knowledge base, Exa, an in-memory list, a cache wrapping any of them."""

    name: str

    async def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Source]:
        """Return at most `k` sources, best first. `filters` keys: `source`, `published_after`, `published_before`."""
        ...


def source_id(url: str, text: str) -> str:
    """Stable id of a passage: the same URL and text always give the same id, across runs and processes."""
    digest = hashlib.sha256(f"{normalize_url(url)}\n{text.strip()}".encode()).hexdigest()
    return f"src-{digest[:16]}"


def make_source(
    *, url: str, title: str, text: str, score: float = 0.0, published: str | None = None, chunk: int | None = None
) -> Source:
    """Build a `Source` with its stable id; an empty URL is refused because it could never be cited. `chunk`: the
    passage's part number within its document, when the backend knows it."""
    if not url or not url.strip():
        raise ValueError("source url must not be empty")
    source = Source(
        id=source_id(url, text),
        url=url.strip(),
        title=(title or url).strip(),
        text=text.strip(),
        score=float(score),
        published=published,
    )
    if chunk is not None:
        source["chunk"] = int(chunk)
    return source


def wrapped_backend(backend: object, kind: type) -> Any:
    """The backend itself, or the one a cache or the research memory wraps (`.backend`), when it is a `kind` (a
    runtime-checkable protocol: the knowledge base's lookups by name and by link); None when none is (a web
    search has no corpus to look into). Typed by its callers: a protocol class is not a concrete `type[T]`."""
    seen = 0
    while backend is not None and seen < 8:
        if isinstance(backend, kind):
            return backend
        backend, seen = getattr(backend, "backend", None), seen + 1
    return None


def payload_source(payload: dict[str, Any]) -> Source:
    """A stored chunk's payload as a source, as the lookups over the stored payloads return it."""
    return make_source(url=payload["url"], title=payload.get("title") or payload["url"], text=payload.get("text") or "",
                       published=payload.get("published"), chunk=int(payload.get("chunk") or 0))
