"""Does each cited sentence say something its cited sources say? The question a careful reader checks by hand.

For every sentence with a citation, anywhere in the report, the sentence (citations removed) is compared with
every sentence of every passage it cites; its support is the best cosine. It is supported when that reaches the
calibrated `sentence_support` threshold. Comparing sentence to sentence, not to whole passages, keeps a long
passage from lending its general topic to a claim it never makes.

What this cannot see: a claim that copies a source sentence but changes a number or a name scores as high as
the source itself (the calibration set has such cases and reports how they fare). The optional LLM judge is the
check for those.
"""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import Sentence, bibliography_by_number, report_sentences, split_text
from nexa_research.evals.similarity import Similarity
from nexa_research.report import Report


class SentenceSupport(BaseModel):
    where: str
    sentence: str
    cited: list[int]
    score: float
    best_source_sentence: str
    supported: bool
    reason: str = ""


class CitationSupport(BaseModel):
    threshold: float
    sentences: list[SentenceSupport]

    @computed_field
    @property
    def unsupported(self) -> list[SentenceSupport]:
        return [s for s in self.sentences if not s.supported]

    @computed_field
    @property
    def supported_share(self) -> float | None:
        return sum(s.supported for s in self.sentences) / len(self.sentences) if self.sentences else None


def source_sentences(passage: str) -> list[str]:
    """The units a claim is compared with: the passage's sentences."""
    return split_text(passage)


def _check(sentence: Sentence, report: Report, similarity: Similarity, threshold: float) -> SentenceSupport:
    entries = bibliography_by_number(report)
    unresolved = [n for n in sentence.cited if n not in entries]
    candidates = [s for n in sentence.cited if n in entries for p in entries[n].passages for s in source_sentences(p)]
    where, text, cited = sentence.where, sentence.text, list(sentence.cited)
    if not candidates:
        reason = (f"cites [{', '.join(map(str, unresolved))}], not in the bibliography" if unresolved
                  else "cited sources carry no passage text")
        return SentenceSupport(where=where, sentence=text, cited=cited, score=0.0, best_source_sentence="",
                               supported=False, reason=reason)
    scores = similarity.matrix([sentence.plain], candidates)[0]
    best = int(scores.argmax())
    score = float(scores[best])
    return SentenceSupport(where=where, sentence=text, cited=cited, score=round(score, 4),
                           best_source_sentence=candidates[best], supported=score >= threshold)


def score_support(report: Report, similarity: Similarity, threshold: float) -> CitationSupport:
    cited = [s for s in report_sentences(report) if s.cited and s.plain]
    return CitationSupport(threshold=threshold, sentences=[_check(s, report, similarity, threshold) for s in cited])
