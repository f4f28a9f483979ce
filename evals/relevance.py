"""Is every cited source about the report's topic? A reader notices an off-topic source at once.

Each bibliography entry is scored by the cosine between the topic and its passages (the text that was actually
cited, with the entry's title in front as a reader sees it); the entry's score is its best passage. An entry is
on-topic when that score reaches the calibrated `source_relevance` threshold, or when the topic's own list of
relevant articles (`relevant_urls`, chosen by reading: evals/dataset.py) names it: a label beats the embedding,
which misses the people and causes of a subject (Franklin D. Roosevelt scores 0.28 against "The Great Depression
and the New Deal"; the labelled pairs hold the same miss, "Steve Jobs" for the personal computer revolution). The
share on score alone is reported beside it. Entries without passage text (reports written before passages were
recorded) are listed as unscored rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, computed_field

from nexa_research.evals.recall import cites
from nexa_research.evals.similarity import Similarity
from nexa_research.providers.relevance import embedded_text
from nexa_research.report import Report


class SourceScore(BaseModel):
    number: int
    url: str
    title: str
    score: float
    on_topic: bool
    listed: bool = False  # the topic's relevant list names it


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

    @computed_field
    @property
    def on_topic_by_score_share(self) -> float | None:
        """The share on the embedding score alone, the topic's list of relevant articles aside."""
        return sum(s.score >= self.threshold for s in self.sources) / len(self.sources) if self.sources else None


def score_sources(
    report: Report, similarity: Similarity, threshold: float, relevant_urls: Sequence[str] = ()
) -> SourceRelevance:
    scored: list[SourceScore] = []
    unscored: list[int] = []
    for entry in report.bibliography:
        texts = [embedded_text(entry.title, p) for p in entry.passages if p.strip()]
        if not texts:
            unscored.append(entry.number)
            continue
        best = float(similarity.matrix([report.topic], texts).max())
        listed = any(cites(u, entry.url) for u in relevant_urls)
        scored.append(SourceScore(number=entry.number, url=entry.url, title=entry.title, score=round(best, 4),
                                  on_topic=best >= threshold or listed, listed=listed))
    return SourceRelevance(threshold=threshold, sources=scored, unscored=unscored)
