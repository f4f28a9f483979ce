"""The knowledge-base search backend's de-duplication of near-identical hits."""

from __future__ import annotations

from nexa_research.providers.kb.store import Hit
from nexa_research.providers.search.knowledge_base import deduplicate


def test_deduplicate_keeps_the_best_of_near_identical_hits():
    def hit(url, text, score, vector):
        return Hit(url=url, title="t", text=text, source="s", published=None, chunk=0, score=score, vector=vector)

    hits = [hit("https://x.org/a", "Alpha  text", 0.9, [1.0, 0.0]),
            hit("https://x.org/a/", "alpha text", 0.8, [0.0, 1.0]),  # same URL and text, other vector
            hit("https://y.org/b", "different", 0.7, [0.999, 0.0447]),  # cosine > 0.95 with the first
            hit("https://z.org/c", "other", 0.6, [0.6, 0.8])]
    assert [h.url for h in deduplicate(hits, k=5)] == ["https://x.org/a", "https://z.org/c"]
    assert [h.url for h in deduplicate(hits, k=1)] == ["https://x.org/a"]
