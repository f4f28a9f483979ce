"""The parts that frame a report (executive summary, introduction, conclusion): do they state findings, or talk
about the report itself?

A reader opens the summary to learn what the sources say. "This report examines X in 5 sections", "Each of the
sections below draws on ...", "The report stops where its sources stop" tell them only that a report exists and
how it is laid out, which the table of contents already shows. Two measures:

- self-references: sentences that refer to the document, its parts, its author or its reader. Detected by
  patterns of how such sentences are built, not by a list of known sentences: a deictic reference to the
  document ("this report", "our study", "the present overview"), a reference to its parts that places them or
  gives them a verb of presenting ("the sections below", "the following chapters discuss", "section 3
  describes"), the document as the subject of the sentence ("The report stops ...", "The conclusion
  summarises ..."), an author announcing what they do ("we will examine", "as discussed above"), the reader,
  or the report's own sourcing ("every statement in it is taken from one of 6 cited sources").
  Names of other documents ("the Brundtland report defined ..."), parts of things ("the brass section of the
  orchestra", "this part of the Sahara") and "the study of X" are not self-references.
- supported share: of all framing sentences, those that carry a citation and pass the support check
  (support.py, the calibrated `sentence_support` threshold). A summary of findings cites them.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import split_text
from nexa_research.evals.support import CitationSupport
from nexa_research.report import Report

FRAMING = ("summary", "introduction", "conclusion")

_META = (r"(?:(?:examin|explor|cover|discuss|describ|present|look|trac|focus|outlin|summari[sz]|review|consider|"
         r"address|turn|end|stop|conclud|follow|organi[sz]|divid|structur|provid|offer|highlight|introduc|treat|"
         r"explain|argu|detail|survey|start|cit|draw|show)(?:e|es|s|ed|d|ing|n)?|stopp(?:ed|ing)|began|begins?|"
         r"beginning|begun|drew|deals?|dealt|relies|rely|relied|sets\s+out|set\s+out)")
_SELF = r"(?:report|overview|essay|study|survey|summary)"
_PARTS = r"(?:sections?|chapters?)"
_WHICH = (r"(?:this|these|the\s+following|the\s+next|the\s+previous|the\s+preceding|the\s+remaining|the\s+other|"
          r"each\s+of\s+the(?:\s+\d+|\s+\w+)?|all(?:\s+\w+)?\s+of\s+the|the\s+(?:\d+|two|three|four|five|six|seven|"
          r"eight|nine|ten|first|second|third|fourth|fifth|last|final))")

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("document", re.compile(rf"\b(?:this|these|our|the\s+present)\s+(?:\w+\s+)?{_SELF}\b(?!\s+of\b)", re.I)),
    ("parts", re.compile(rf"\b{_PARTS}\s+(?:below|above|ahead|that\s+follows?|which\s+follows?|to\s+come)\b", re.I)),
    ("parts", re.compile(rf"\b{_WHICH}\s+(?:\w+\s+)?{_PARTS},?\s+(?:\w+\s+){{0,2}}?{_META}\b", re.I)),
    ("parts", re.compile(rf"\b(?:in|across|throughout|over)\s+{_WHICH}\s+{_PARTS}\b(?!\s+of\b)", re.I)),
    ("parts", re.compile(rf"\b(?:section|chapter)\s+\d+\s+(?:\w+\s+)?{_META}\b", re.I)),
    ("subject", re.compile(r"^(?:the|this|our)\s+(?:report|overview|essay|introduction|conclusion)\b(?!\s+of\b)", re.I)),
    ("subject", re.compile(rf"\bthe\s+report\s+(?:\w+\s+)?{_META}\b", re.I)),
    ("author", re.compile(rf"\bwe\s+(?:(?:will|shall|now|then|first|next|also|have|briefly)\s+){{0,2}}{_META}\b|"
                          r"\blet\s+us\b|\bin\s+what\s+follows\b", re.I)),
    ("author", re.compile(r"\bas\s+(?:noted|discussed|described|mentioned|shown|seen|explained|outlined)\s+"
                          r"(?:above|below|earlier|later|previously|before)\b", re.I)),
    ("reader", re.compile(r"\bthe\s+reader\b|\breaders\s+(?:will|can|may|should|might)\b", re.I)),
    ("sourcing", re.compile(r"\b(?:every|each)\s+(?:statement|sentence)s?\b|\bcited\s+sources?\b|"
                            r"\bsources?\s+(?:it|the\s+report|this\s+report)\s+(?:cites?|draws?\s+on|uses?)\b", re.I)),
)


def self_reference(sentence: str) -> str | None:
    """The kind of self-reference in a sentence (document, parts, subject, author, reader, sourcing), or None."""
    text = " ".join(sentence.split())
    return next((kind for kind, pattern in PATTERNS if pattern.search(text)), None)


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
