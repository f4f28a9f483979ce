"""Does the report say the same thing twice? Repetition is the first thing a reader of a generated report notices.

Every sentence of every part (summary, introduction, transitions, sections, conclusion) is compared with every
other. A pair counts when the two are the same words (case, punctuation and citations ignored) or when their
cosine reaches the calibrated `duplicate_sentence` threshold. Sentences under four words are left out: "It
failed." may fairly recur, and short sentences are close to many others without repeating them (fragments.py
reports the shortest ones).
"""

from __future__ import annotations

import itertools

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import report_sentences
from nexa_research.evals.similarity import Similarity
from nexa_research.kernel.sentences import sentence_key
from nexa_research.report import Report

MIN_WORDS = 4


class DuplicatePair(BaseModel):
    first_where: str
    first: str
    second_where: str
    second: str
    score: float
    identical: bool


class NearDuplicates(BaseModel):
    threshold: float
    pairs: list[DuplicatePair]

    @computed_field
    @property
    def count(self) -> int:
        return len(self.pairs)


def score_duplicates(report: Report, similarity: Similarity, threshold: float) -> NearDuplicates:
    sentences = [s for s in report_sentences(report) if len(s.plain.split()) >= MIN_WORDS]
    scores = similarity.matrix([s.plain for s in sentences], [s.plain for s in sentences])
    pairs = []
    for i, j in itertools.combinations(range(len(sentences)), 2):
        a, b = sentences[i], sentences[j]
        identical = sentence_key(a.text) == sentence_key(b.text)
        if identical or scores[i, j] >= threshold:
            pairs.append(DuplicatePair(first_where=a.where, first=a.text, second_where=b.where, second=b.text,
                                       score=round(float(scores[i, j]), 4), identical=identical))
    return NearDuplicates(threshold=threshold, pairs=pairs)
