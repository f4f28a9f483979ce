"""Knowledge-base points: one id per normalised URL and chunk, so a re-ingest replaces instead of adding."""

from __future__ import annotations

from nexa_research.providers.kb.store import point_id


def test_point_ids_follow_the_normalised_url():
    assert point_id("http://www.Example.org/a/", 0) == point_id("https://example.org/a", 0)
    assert point_id("https://example.org/a", 0) != point_id("https://example.org/a", 1)
