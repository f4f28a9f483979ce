"""What a search gives beside its sources when backends wrap others: whether the cache answered, and which
optional feature failed on the way (research memory, the search cache).

Those features only add to a search, so their failure must not cost the sources the main backend found: the
wrapper keeps the sources and says what it skipped in `warnings`, which the research node records on the
section and the report's metadata lists. Failures of the main backend still raise (and are retried).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nexa_research.providers.search.protocol import SearchBackend
from nexa_research.state import Source


@dataclass
class SearchOutcome:
    sources: list[Source]
    cache_hit: bool | None = None  # None: no cache in the way
    warnings: list[str] = field(default_factory=list)


async def search_outcome(
    backend: SearchBackend, query: str, k: int, filters: dict[str, Any] | None = None
) -> SearchOutcome:
    """The backend's own `search_outcome` when it is a wrapper that has one, else its plain results."""
    detailed = getattr(backend, "search_outcome", None)
    if detailed is not None:
        return await detailed(query, k, filters)
    return SearchOutcome(await backend.search(query, k, filters))
