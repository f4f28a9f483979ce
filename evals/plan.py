"""Is the plan one a reader would accept? Distinct sections, each with a real subject, each backed by a source.

- Generic titles: a title made only of words that could head any report ("Introduction", "Background and
  overview", "Key findings", "Historical significance") tells the reader nothing about this topic.
- Numbered titles: a manual's numbering copied into a title ("25.1. Routine Vacuuming", "Chapter 13.
  Concurrency Control"): the report has its own order, and the number means nothing outside the manual.
- Duplicate titles: two sections about the same thing, by the planner's own rule (kernel/title_pairs.py): the
  same words, or close in meaning (cosine at or above the calibrated `duplicate_title` threshold) unless what
  sets them apart is not (two parts the topic names, or two angles on a long shared subject).
- Unsupported sections: a written section must cite at least one source whose passages are about the section,
  scored as the cosine of "section title (topic)" with the passage (calibrated `section_support`). The topic is
  added because a reader reads a title such as "Causes" in the light of the report's topic.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import bibliography_by_number, cited_in_sections
from nexa_research.evals.similarity import Similarity
from nexa_research.kernel.title_pairs import duplicate_title_pairs, title_key
from nexa_research.kernel.title_words import names_no_subject
from nexa_research.providers.relevance import embedded_text
from nexa_research.report import Report

_NUMBERED = re.compile(r"^\s*(?:(?i:chapter|part|appendix|section)\s+(?:\d+|[IVXLCivxlc]+|[A-Za-z])\b[.:]?|\d+(?:\.\d+)+\.?|\d+\.)\s+(?=[A-Z])")


def is_numbered(title: str) -> bool:
    """A title that starts with a manual's section number or chapter label."""
    return bool(_NUMBERED.match(title))


def is_generic(title: str) -> bool:
    """A title naming no subject, by the kernel's title vocabulary (the planner's checks read the same words)."""
    return names_no_subject(title)


def section_query(title: str, topic: str) -> str:
    """How a section is embedded when its sources are checked against it."""
    return f"{title} ({topic})"


class TitlePair(BaseModel):
    first: str
    second: str
    score: float
    identical: bool


class SectionSupport(BaseModel):
    number: int
    title: str
    score: float
    best_source: int | None
    supported: bool
    reason: str = ""


class PlanSanity(BaseModel):
    duplicate_threshold: float
    support_threshold: float
    titles: list[str]
    generic_titles: list[str]
    numbered_titles: list[str] = []
    duplicate_titles: list[TitlePair]
    sections: list[SectionSupport]

    @computed_field
    @property
    def unsupported_sections(self) -> list[SectionSupport]:
        return [s for s in self.sections if not s.supported]

    @computed_field
    @property
    def title_problems(self) -> int:
        return len(self.generic_titles) + len(self.numbered_titles) + len(self.duplicate_titles)


def _duplicate_titles(titles: list[str], topic: str, similarity: Similarity, threshold: float) -> list[TitlePair]:
    """The pairs the planner's own check refuses (kernel/title_pairs.py), so a report is never counted for a
    plan its planner checked by another rule."""
    scores = similarity.matrix(titles, titles)
    found = []
    for i, j in duplicate_title_pairs(titles, topic, similarity.matrix, threshold):
        identical = title_key(titles[i]) == title_key(titles[j])
        found.append(TitlePair(first=titles[i], second=titles[j], score=round(float(scores[i, j]), 4), identical=identical))
    return found


def _section_support(report: Report, similarity: Similarity, threshold: float) -> list[SectionSupport]:
    entries = bibliography_by_number(report)
    cited = cited_in_sections(report)
    out = []
    for number, section in enumerate(report.sections, start=1):
        if section.status != "done":
            continue
        texts = [(n, embedded_text(entries[n].title, p)) for n in cited[number] if n in entries for p in entries[n].passages]
        if not texts:
            reason = "cites no source" if not cited[number] else "cited sources carry no passage text"
            out.append(SectionSupport(number=number, title=section.title, score=0.0, best_source=None, supported=False,
                                      reason=reason))
            continue
        scores = similarity.matrix([section_query(section.title, report.topic)], [t for _, t in texts])[0]
        best = int(scores.argmax())
        out.append(SectionSupport(number=number, title=section.title, score=round(float(scores[best]), 4),
                                  best_source=texts[best][0], supported=bool(scores[best] >= threshold)))
    return out


def score_plan(report: Report, similarity: Similarity, duplicate_threshold: float, support_threshold: float) -> PlanSanity:
    titles = [s.title for s in report.sections]
    return PlanSanity(
        duplicate_threshold=duplicate_threshold,
        support_threshold=support_threshold,
        titles=titles,
        generic_titles=[t for t in titles if is_generic(t)],
        numbered_titles=[t for t in titles if is_numbered(t)],
        duplicate_titles=_duplicate_titles(titles, report.topic, similarity, duplicate_threshold),
        sections=_section_support(report, similarity, support_threshold),
    )
