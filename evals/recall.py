"""Did the report find the sources any report on its topic should cite? Recall of the dataset's expected articles.

A report on the French Revolution that never cites the article on the French Revolution has missed the obvious
source, however fluent it is. Recall = expected URLs found in the bibliography / expected URLs, after URL
normalisation (scheme, `www.`, trailing slash and tracking parameters do not count as differences).
"""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from nexa_research.report import Report
from nexa_research.urls import normalize_url


class SourceRecall(BaseModel):
    expected: list[str]
    found: list[str]
    missing: list[str]

    @computed_field
    @property
    def recall(self) -> float | None:
        return len(self.found) / len(self.expected) if self.expected else None


def score_recall(report: Report, expect_urls: list[str]) -> SourceRecall:
    cited = {normalize_url(e.url) for e in report.bibliography}
    found = [u for u in expect_urls if normalize_url(u) in cited]
    return SourceRecall(expected=list(expect_urls), found=found, missing=[u for u in expect_urls if u not in found])
