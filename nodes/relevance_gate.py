"""The relevance gate: a retrieved passage enters a section only if it is about the topic AND about the section.

Every backend (knowledge base, research memory, Exa, a user's own) ranks by its own notion of a match, and a
small model's query can wander off the topic ("the Black Death in the United States"), so search results are
re-scored here against the report topic and the section (title and outline) with the run's `Relevance` scorer.
Passages below the on-topic threshold for either are dropped; near-copies of a passage already kept are dropped
too, so a section's sources say different things.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nexa_research.providers.relevance import Relevance
from nexa_research.state import Paragraph, Source


def section_text(paragraph: Paragraph) -> str:
    """What a section is about, as one text to compare passages with."""
    return f"{paragraph['title']}. {paragraph['outline']}".strip()


def section_query(topic: str, paragraph: Paragraph) -> str:
    """A search query from the plan itself (section title plus topic), run beside the model's query."""
    return f"{paragraph['title']} ({topic})"


@dataclass
class GateResult:
    kept: list[Source]
    off_topic: list[Source]
    duplicates: int


def gate_sources(
    relevance: Relevance,
    topic: str,
    paragraph: Paragraph,
    candidates: Sequence[Source],
    *,
    known: Sequence[Source] = (),
    limit: int | None = None,
    min_relevance: float | None = None,
) -> GateResult:
    """On-topic, non-duplicate candidates, best first (by the lower of topic and section similarity), at most `limit`.

    `known`: sources the section already has; a candidate that near-copies one of them is a duplicate.
    """
    if not candidates:
        return GateResult([], [], 0)
    t = relevance.thresholds
    topic_cut, section_cut = (t.on_topic, t.on_section) if min_relevance is None else (min_relevance, min_relevance)
    texts = [f"{c['title']}. {c['text']}" for c in candidates]
    scores = relevance.similarity([topic, section_text(paragraph)], texts)
    combined = np.minimum(scores[0], scores[1])
    order = sorted(range(len(candidates)), key=lambda i: -float(combined[i]))
    passes = [bool(scores[0, i] >= topic_cut and scores[1, i] >= section_cut) for i in range(len(candidates))]
    on_topic = [i for i in order if passes[i]]
    off_topic = [candidates[i] for i in order if not passes[i]]
    kept: list[int] = []
    duplicates = 0
    pool = [s["text"] for s in known]
    for i in on_topic:
        others = pool + [candidates[j]["text"] for j in kept]
        if others and float(relevance.similarity([candidates[i]["text"]], others).max()) >= relevance.thresholds.duplicate:
            duplicates += 1
            continue
        kept.append(i)
        if limit is not None and len(kept) >= limit:
            break
    result = []
    for i in kept:
        source = dict(candidates[i])
        source["score"] = round(float(combined[i]), 4)
        result.append(Source(**source))  # type: ignore[typeddict-item]
    return GateResult(result, off_topic, duplicates)
