"""How long the report is and what it cost: words per section and in total, sections printed against sections
asked, tokens per model role, wall time.

A reader judges length against the promise (400-800 words a section, 1500-3000 a report, DESIGN.md); a deep
report on five sections should reach at least 1,000 words (200 per section asked), an informational target
because a thin corpus can honestly cap it. Asking for five sections and getting three is a shorter report than
was asked for, whatever the reason, so the sections printed are set against the sections asked: the run's
request when the runner knows it, else the report's own config when it fixed the count (min = max sections).
Cost and time decide whether a configuration is worth running. Tokens come from the report's metadata (input
and output per role); wall time is measured by the runner around the whole research call.
"""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import report_parts, word_count
from nexa_research.report import Report

WORDS_PER_SECTION_ASKED = 200


class SectionWords(BaseModel):
    number: int
    title: str
    words: int
    status: str


class ReportLength(BaseModel):
    words_total: int
    sections: list[SectionWords]
    tokens: dict[str, dict[str, int]]
    seconds: float | None = None
    sections_asked: int | None = None

    @computed_field
    @property
    def tokens_total(self) -> int:
        return sum(u.get("input_tokens", 0) + u.get("output_tokens", 0) for u in self.tokens.values())

    @computed_field
    @property
    def sections_printed(self) -> int:
        return sum(1 for s in self.sections if s.status == "done" and s.words > 0)

    @computed_field
    @property
    def sections_share(self) -> float | None:
        return self.sections_printed / self.sections_asked if self.sections_asked else None

    @computed_field
    @property
    def words_goal(self) -> int | None:
        return WORDS_PER_SECTION_ASKED * self.sections_asked if self.sections_asked else None


def sections_asked_by(report: Report) -> int | None:
    """The section count the report's run fixed (min = max sections in its recorded config), if it fixed one."""
    config = report.metadata.config
    low, high = config.get("min_sections"), config.get("max_sections")
    return high if isinstance(high, int) and low == high else None


def score_length(report: Report, seconds: float | None = None, sections_asked: int | None = None) -> ReportLength:
    return ReportLength(
        words_total=sum(word_count(text) for where, text in report_parts(report)),
        sections=[
            SectionWords(number=n, title=s.title, words=word_count(s.content), status=s.status)
            for n, s in enumerate(report.sections, start=1)
        ],
        tokens={role: dict(usage) for role, usage in report.metadata.token_usage.items()},
        seconds=seconds,
        sections_asked=sections_asked or sections_asked_by(report),
    )
