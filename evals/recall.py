"""Did the report find the sources a report on its topic should cite? Recall against two lists of the dataset.

`expect_urls` are the two to four articles a report on the topic can hardly do without: a report on the French
Revolution that never cites the article on the French Revolution has missed the obvious source, however fluent
it is. Recall = expected URLs found in the bibliography / expected URLs.

`relevant_urls` are the 8-15 articles of the corpus a careful researcher would cite, chosen by reading the
corpus. A deep report should draw on most of them, but needing all fifteen would punish a topic for being well
covered, so its recall is found / min(10, relevant URLs), capped at 1.0: ten relevant sources are a full score.

URLs are compared after normalisation (scheme, `www.`, trailing slash and tracking parameters do not count as
differences). A dataset entry without a scheme ("routine-vacuuming.html", "library/asyncio-task.html") is a page
of a user's document folder, wherever that folder is on the machine: it is found when a cited local file's path
ends with it, whichever of its sections (`#anchor`) was cited, so the recall of documents is page recall.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, computed_field

from nexa_research.report import Report
from nexa_research.urls import normalize_url

# Relevant sources that make a full score: a researcher cites ten good articles, not every one that exists.
RELEVANT_ENOUGH = 10


class SourceRecall(BaseModel):
    expected: list[str]
    found: list[str]
    missing: list[str]
    needed: int | None = None  # found URLs that make recall 1.0; None: every expected URL

    @computed_field
    @property
    def recall(self) -> float | None:
        denominator = self.needed or len(self.expected)
        return min(1.0, len(self.found) / denominator) if denominator else None


def is_page(url: str) -> bool:
    """A dataset entry naming a page of a document folder (a relative path), not a URL."""
    return "://" not in url


def cites(url: str, cited_url: str) -> bool:
    """Whether a bibliography URL is the dataset's `url`: the same normalised URL, or for a page of a document
    folder, a local file whose path ends with it (any of its sections)."""
    if not is_page(url):
        return normalize_url(url) == normalize_url(cited_url)
    parts = urlsplit(cited_url)
    return parts.scheme == "file" and ("/" + unquote(parts.path).lstrip("/")).endswith("/" + url.strip().lstrip("./"))


def _found(report: Report, urls: list[str]) -> tuple[list[str], list[str]]:
    cited = [e.url for e in report.bibliography]
    found = [u for u in urls if any(cites(u, c) for c in cited)]
    return found, [u for u in urls if u not in found]


def score_recall(report: Report, expect_urls: list[str]) -> SourceRecall:
    """Recall of the must-have articles: every one of them counts."""
    found, missing = _found(report, expect_urls)
    return SourceRecall(expected=list(expect_urls), found=found, missing=missing)


def score_relevant_recall(report: Report, relevant_urls: list[str]) -> SourceRecall:
    """Recall of the articles a careful researcher would cite: min(10, len) of them make a full score."""
    found, missing = _found(report, relevant_urls)
    return SourceRecall(expected=list(relevant_urls), found=found, missing=missing,
                        needed=min(RELEVANT_ENOUGH, len(relevant_urls)))
