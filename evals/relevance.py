"""Is every cited source about the report's topic? A reader notices an off-topic source at once.

Each bibliography entry is scored by the cosine between the topic and its passages (the text that was actually
cited, with the entry's title in front as a reader sees it); the entry's score is its best passage. An entry is
on-topic when that score reaches the calibrated `source_relevance` threshold. Entries without passage text
(reports written before passages were recorded) are listed as unscored rather than guessed.
"""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from nexa_research.evals.similarity import Similarity
from nexa_research.report import Report


class SourceScore(BaseModel):
    number: int
    url: str
    title: str
    score: float
    on_topic: bool


class SourceRelevance(BaseModel):
    threshold: float
    sources: list[SourceScore]
    unscored: list[int]

    @computed_field
    @property
    def off_topic(self) -> list[SourceScore]:
        return [s for s in self.sources if not s.on_topic]

    @computed_field
    @property
    def on_topic_share(self) -> float | None:
        return sum(s.on_topic for s in self.sources) / len(self.sources) if self.sources else None


def source_text(title: str, passage: str) -> str:
    """How a cited passage is embedded for relevance: its title line, then the passage (as the knowledge base does)."""
    return f"{title}\n{passage}"


def score_sources(report: Report, similarity: Similarity, threshold: float) -> SourceRelevance:
    scored: list[SourceScore] = []
    unscored: list[int] = []
    for entry in report.bibliography:
        texts = [source_text(entry.title, p) for p in entry.passages if p.strip()]
        if not texts:
            unscored.append(entry.number)
            continue
        best = float(similarity.matrix([report.topic], texts).max())
        scored.append(SourceScore(number=entry.number, url=entry.url, title=entry.title, score=round(best, 4),
                                  on_topic=best >= threshold))
    return SourceRelevance(threshold=threshold, sources=scored, unscored=unscored)
