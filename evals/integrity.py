"""Citations a reader can follow: every [n] has an entry, and no source is listed twice.

These are the checks the pipeline guarantees by construction (kept from the first eval checks); measuring them on
the finished report still catches a regression, or a report edited or produced elsewhere.
- unresolved: citation numbers with no bibliography entry, with where they occur;
- duplicate_urls: bibliography URLs that normalise to one source;
- uncited: bibliography entries no sentence cites (a source listed but never used).
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import report_parts
from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.report import Report
from nexa_research.urls import normalize_url


class UnresolvedCitation(BaseModel):
    where: str
    number: int


class CitationIntegrity(BaseModel):
    unresolved: list[UnresolvedCitation]
    duplicate_urls: list[str]
    uncited: list[int]

    @computed_field
    @property
    def citations_resolve(self) -> bool:
        return not self.unresolved

    @computed_field
    @property
    def unique_sources(self) -> bool:
        return not self.duplicate_urls


def score_integrity(report: Report) -> CitationIntegrity:
    numbers = {e.number for e in report.bibliography}
    unresolved, used = [], set()
    for where, text in report_parts(report):
        for n in dict.fromkeys(cited_numbers(text)):
            used.add(n)
            if n not in numbers:
                unresolved.append(UnresolvedCitation(where=where, number=n))
    counts = Counter(normalize_url(e.url) for e in report.bibliography)
    return CitationIntegrity(
        unresolved=unresolved,
        duplicate_urls=sorted(url for url, n in counts.items() if n > 1),
        uncited=sorted(numbers - used),
    )
