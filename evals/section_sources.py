"""How many distinct on-topic sources does each section draw on? A section built from one article is a summary of
that article, not research.

A source counts for a section when the section's text cites it and the source-relevance measure (relevance.py,
the calibrated `source_relevance` threshold) finds it on the report's topic: citing an off-topic article does not
make a section better researched. Only printed sections are counted (a section printed as missing is counted by
the sections-printed measure in length.py). The run's figure is the mean over all printed sections of all its
reports, so a report with seven sections weighs more than one with two.
"""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from nexa_research.evals.relevance import SourceRelevance
from nexa_research.evals.report_text import cited_in_sections, word_count
from nexa_research.report import Report

# Sources a section needs to count as researched rather than one article retold (the issue-17 target).
ENOUGH_SOURCES = 3


class SectionSourceCount(BaseModel):
    number: int
    title: str
    cited: list[int]
    on_topic: list[int]

    @computed_field
    @property
    def count(self) -> int:
        return len(self.on_topic)


class SectionSources(BaseModel):
    sections: list[SectionSourceCount]

    @computed_field
    @property
    def mean(self) -> float | None:
        return sum(s.count for s in self.sections) / len(self.sections) if self.sections else None


def printed(report: Report) -> list[tuple[int, str]]:
    """(number, title) of the sections a reader gets text for, numbered as the report prints them."""
    return [(n, s.title) for n, s in enumerate(report.sections, start=1) if s.status == "done" and word_count(s.content) > 0]


def score_section_sources(report: Report, relevance: SourceRelevance) -> SectionSources:
    on_topic = {s.number for s in relevance.sources if s.on_topic}
    cited = cited_in_sections(report)
    return SectionSources(sections=[
        SectionSourceCount(number=n, title=title, cited=cited[n], on_topic=[c for c in cited[n] if c in on_topic])
        for n, title in printed(report)
    ])
