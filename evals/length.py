"""How long the report is and what it cost: words per section and in total, tokens per model role, wall time.

A reader judges length against the promise (400-800 words a section, 1500-3000 a report, DESIGN.md); cost and
time decide whether a configuration is worth running. Tokens come from the report's own metadata (input and
output per role); wall time is measured by the runner around the whole research call.
"""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import report_parts, word_count
from nexa_research.report import Report


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

    @computed_field
    @property
    def tokens_total(self) -> int:
        return sum(u.get("input_tokens", 0) + u.get("output_tokens", 0) for u in self.tokens.values())


def score_length(report: Report, seconds: float | None = None) -> ReportLength:
    return ReportLength(
        words_total=sum(word_count(text) for where, text in report_parts(report)),
        sections=[
            SectionWords(number=n, title=s.title, words=word_count(s.content), status=s.status)
            for n, s in enumerate(report.sections, start=1)
        ],
        tokens={role: dict(usage) for role, usage in report.metadata.token_usage.items()},
        seconds=seconds,
    )
