"""Search filters of the knowledge base, with one meaning expressed three times: as a Qdrant filter, as a
RediSearch filter, and in Python.

Why in Python too: embedded Qdrant evaluates a payload filter in Python over EVERY stored point before ranking (about
75 ms on the 10k-article corpus), while ranking itself takes a few milliseconds. So in embedded mode the
knowledge base ranks without the filter and applies `SearchFilters.matches` to the top of the ranking, and
only falls back to the Qdrant filter when that window holds too few matches. RediSearch filters inside its
vector query, exactly. tests/test_knowledge_base.py checks all forms agree.

Meaning (as in the in-memory backend): `source` is an exact match; `published_after` keeps dated chunks from
that day on; `published_before` keeps chunks up to that day AND undated ones (the Wikipedia corpus has no
dates, and "before X" should not hide it). Dates without a time zone are UTC, as Qdrant reads them. Redis
compares dates as POSIX timestamps in a numeric field that indexes its absence (undated chunks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from qdrant_client import models
from redisvl.query.filter import FilterExpression, Num, Tag

from nexa_research.errors import ResearchInputError

FILTER_KEYS = frozenset({"source", "published_after", "published_before"})
# Index fields of the Redis store that filters use (providers/kb/redis_store.py declares them).
REDIS_SOURCE_FIELD = "source"
REDIS_PUBLISHED_FIELD = "published_ts"


def parse_iso(value: Any, what: str) -> datetime:
    """An ISO date or datetime as an aware datetime (UTC when no zone is given)."""
    try:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime.combine(value, datetime.min.time())
        else:
            parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ResearchInputError(f"{what}: {value!r} is not an ISO date (YYYY-MM-DD)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class SearchFilters:
    """Validated filters; build with `SearchFilters.parse(mapping)`."""

    source: str | None = None
    after: datetime | None = None
    before: datetime | None = None

    @classmethod
    def parse(cls, filters: Mapping[str, Any] | None) -> SearchFilters | None:
        """None when nothing filters; unknown keys and malformed dates are refused naming the key."""
        if not filters:
            return None
        unknown = set(filters) - FILTER_KEYS
        if unknown:
            raise ResearchInputError(f"search filters: unknown key(s) {sorted(unknown)}; known: {sorted(FILTER_KEYS)}")
        after, before = filters.get("published_after"), filters.get("published_before")
        parsed = cls(
            source=str(filters["source"]) if filters.get("source") else None,
            after=parse_iso(after, "search filter published_after") if after else None,
            before=parse_iso(before, "search filter published_before") if before else None,
        )
        return parsed if parsed != cls() else None

    def to_qdrant(self) -> models.Filter:
        must: list[Any] = []
        if self.source is not None:
            must.append(models.FieldCondition(key="source", match=models.MatchValue(value=self.source)))
        if self.after is not None:
            must.append(models.FieldCondition(key="published", range=models.DatetimeRange(gte=self.after)))
        if self.before is not None:
            before = models.FieldCondition(key="published", range=models.DatetimeRange(lte=self.before))
            undated = models.IsEmptyCondition(is_empty=models.PayloadField(key="published"))
            must.append(models.Filter(should=[before, undated]))
        return models.Filter(must=must)

    def to_redis(self) -> FilterExpression:
        """The same test as `to_qdrant`, for RediSearch (redisvl builds and escapes the query syntax)."""

        def published() -> Num:  # a redisvl field keeps the value it was last compared with: one per comparison
            return Num(REDIS_PUBLISHED_FIELD)

        parts: list[FilterExpression] = []
        if self.source is not None:
            parts.append(Tag(REDIS_SOURCE_FIELD) == self.source)
        if self.after is not None:
            parts.append(published() >= self.after.timestamp())
        if self.before is not None:
            parts.append((published() <= self.before.timestamp()) | published().is_missing())
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part
        return combined

    def matches(self, payload: Mapping[str, Any]) -> bool:
        """The same test as `to_qdrant`, on one stored payload (whose `published` was validated on insert)."""
        if self.source is not None and payload.get("source") != self.source:
            return False
        published = payload.get("published")
        when = parse_iso(published, "stored published") if published else None
        if self.after is not None and (when is None or when < self.after):
            return False
        return self.before is None or when is None or when <= self.before
