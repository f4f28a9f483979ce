"""The parts that frame a report (executive summary, introduction, conclusion): do they state findings, or talk
about the report itself?

A reader opens the summary to learn what the sources say. "This report examines X in 5 sections", "Each of the
sections below draws on ...", "The report stops where its sources stop" tell them only that a report exists and
how it is laid out, which the table of contents already shows. Two measures:

- self-references: sentences that refer to the document, its parts, its author or its reader, by the kernel's one
  definition (graph/kernel/self_reference.py), which the collator reads too.
- supported share: of all framing sentences, those that carry a citation and pass the support check
  (support.py, the calibrated `sentence_support` threshold). A summary of findings cites them.
"""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import split_text
from nexa_research.evals.support import CitationSupport
from nexa_research.kernel.self_reference import self_reference
from nexa_research.report import Report

FRAMING = ("summary", "introduction", "conclusion")

class SelfReference(BaseModel):
    where: str
    sentence: str
    kind: str


class Framing(BaseModel):
    sentences: int
    self_references: list[SelfReference]
    cited_supported: int

    @computed_field
    @property
    def supported_share(self) -> float | None:
        return self.cited_supported / self.sentences if self.sentences else None


def framing_sentences(report: Report) -> list[tuple[str, str]]:
    texts = {"summary": report.executive_summary, "introduction": report.introduction, "conclusion": report.conclusion}
    return [(where, s) for where in FRAMING for s in split_text(texts[where] or "")]


def score_framing(report: Report, support: CitationSupport) -> Framing:
    sentences = framing_sentences(report)
    found = [SelfReference(where=w, sentence=s, kind=kind) for w, s in sentences if (kind := self_reference(s))]
    supported = sum(1 for s in support.sentences if s.where in FRAMING and s.supported)
    return Framing(sentences=len(sentences), self_references=found, cited_supported=supported)
