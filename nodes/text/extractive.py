"""Extractive section writing: a section made of the most relevant sentences of its on-topic sources.

A 0.5B-1.5B local model paraphrases badly: it repeats itself, drifts off the sources and invents facts. What it
cannot get wrong is a sentence it did not write. So a section is assembled in code from the sources' own
sentences (cleaned of debris by nodes/text/fragments.py), each cited to its source:

- every sentence is scored against the section (title and outline, and each key question) and the topic;
- the best are taken, skipping near-copies of one already taken, up to a word budget; a sentence that starts
  with a pronoun ("It", "He") only comes with the sentence before it, so it never loses its subject;
- they are printed grouped by source, in each source's own order, one paragraph per source, so the text reads
  as the sources wrote it.
The model then writes only a short lead for the section, which is kept only where it is supported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nexa_research.nodes.text.fragments import passage_sentences
from nexa_research.nodes.checks.relevance import section_text
from nexa_research.nodes.text.repetition import NEEDS_ANTECEDENT
from nexa_research.providers.relevance import Relevance
from nexa_research.state import Paragraph, Source

MAX_WORDS = 450
MAX_SENTENCES = 14
# A sentence is left to another section of the plan when it matches that section better by more than this. It was
# 0.05, meant to let a sentence serve two sections; in the eval the first section of a plan then took most of its
# neighbours' sentences (Rio Negro's and Belém's under "The Amazon River": 0.63 against 0.69 for "Rio Negro"), and
# the collator's first-come de-duplication left those sections with scraps. A section that would be left empty by
# this rule takes its sentences anyway (`extract_section`).
OWNERSHIP_MARGIN = 0.0
# A section left empty by that rule takes the sentences that match another section only a little better (a broad
# "Key Events of the Mongol Empire" beside article sections), never one that plainly belongs elsewhere: taking
# everything made it print the first sentences of Batu Khan's and the Kazakh Khanate's articles, and the collator's
# first-come de-duplication then left those sections a stray sentence or nothing.
CLEAR_OWNERSHIP_MARGIN = 0.1


@dataclass(frozen=True)
class Candidate:
    source: int  # 1-based number of the section's source
    position: int  # sentence index within that source
    text: str
    score: float


def candidates(
    relevance: Relevance,
    topic: str,
    paragraph: Paragraph,
    sources: Sequence[Source],
    plan: Sequence[str] = (),
    margin: float = OWNERSHIP_MARGIN,
) -> list[Candidate]:
    """Every clean sentence of every source, scored: 0.6 x best match to the section or a question + 0.4 x topic.

    With the whole plan given, a sentence that matches another section better than this one (by more than
    `margin`) is left to that section (score 0): branches run apart, but each keeps to its own subject.
    """
    sentences = [(n, i, s) for n, src in enumerate(sources, start=1) for i, s in enumerate(passage_sentences(src["text"]))]
    if not sentences:
        return []
    texts = [s for _, _, s in sentences]
    own = section_text(paragraph)
    to_own = relevance.similarity([own], texts)[0]
    to_section = np.maximum(to_own, relevance.similarity(paragraph["questions"], texts).max(axis=0)) if paragraph["questions"] else to_own
    to_topic = relevance.similarity([topic], texts)[0]
    scores = 0.6 * to_section + 0.4 * to_topic
    others = [p for p in plan if p != own]
    if others:
        elsewhere = relevance.similarity(others, texts).max(axis=0)
        scores = np.where(elsewhere > to_own + margin, 0.0, scores)
    return [Candidate(n, i, text, float(score)) for (n, i, text), score in zip(sentences, scores, strict=True)]


def select(
    relevance: Relevance,
    pool: list[Candidate],
    *,
    min_score: float,
    max_words: int = MAX_WORDS,
    max_sentences: int = MAX_SENTENCES,
    avoid: Sequence[str] = (),
) -> list[Candidate]:
    """The best candidates above `min_score`, no near-copies (of each other or of `avoid`), within the budgets."""
    by_key = {(c.source, c.position): c for c in pool}
    chosen: list[Candidate] = []
    taken: list[str] = list(avoid)
    words = 0

    def duplicate(text: str) -> bool:
        return bool(taken) and float(relevance.similarity([text], taken).max()) >= relevance.thresholds.duplicate

    for cand in sorted(pool, key=lambda c: -c.score):
        if cand.score < min_score or len(chosen) >= max_sentences:
            break
        if cand in chosen or duplicate(cand.text):
            continue
        group = [cand]
        if NEEDS_ANTECEDENT.match(cand.text):
            before = by_key.get((cand.source, cand.position - 1))
            if before is None:
                continue
            if before not in chosen:
                if duplicate(before.text):
                    continue
                group.insert(0, before)
        cost = sum(len(c.text.split()) for c in group)
        if chosen and words + cost > max_words:
            continue
        chosen += group
        taken += [c.text for c in group]
        words += cost
    return chosen


def arrange(chosen: Sequence[Candidate]) -> str:
    """One paragraph per source (best source first), sentences in the source's order, each cited [n]."""
    best: dict[int, float] = {}
    for c in chosen:
        best[c.source] = max(best.get(c.source, -1.0), c.score)
    paragraphs = []
    for number in sorted(best, key=lambda n: -best[n]):
        sentences = sorted((c for c in chosen if c.source == number), key=lambda c: c.position)
        paragraphs.append(" ".join(cite(c.text, number) for c in sentences))
    return "\n\n".join(paragraphs)


def cite(sentence: str, number: int) -> str:
    """`sentence` with `[number]` before its closing punctuation."""
    stripped = sentence.rstrip()
    end = len(stripped)
    while end and stripped[end - 1] in ".!\"'”":
        end -= 1
    if end == len(stripped):
        return f"{stripped} [{number}]."
    return f"{stripped[:end]} [{number}]{stripped[end:]}"


def extract_section(
    relevance: Relevance,
    topic: str,
    paragraph: Paragraph,
    sources: Sequence[Source],
    *,
    plan: Sequence[str] = (),
    min_score: float | None = None,
) -> tuple[str, list[Candidate]]:
    """The section text built from its sources, and the sentences chosen (for the lead and for checks)."""
    threshold = relevance.thresholds.on_section if min_score is None else min_score
    chosen = select(relevance, candidates(relevance, topic, paragraph, sources, plan), min_score=threshold)
    if not chosen and plan:
        # Every sentence belongs to another section more than to this one (two sections of one plan on the same
        # article: in the eval, four of five oil-crisis sections printed "missing"). The section takes those that
        # are near ties, and failing that all of them; the collator then keeps each repeated sentence only in the
        # section it is about, and leaves a section out, with a warning, if nothing of its own remains.
        near = candidates(relevance, topic, paragraph, sources, plan, margin=CLEAR_OWNERSHIP_MARGIN)
        chosen = select(relevance, near, min_score=threshold) or select(
            relevance, candidates(relevance, topic, paragraph, sources), min_score=threshold
        )
    return arrange(chosen), chosen


def supported(relevance: Relevance, sentences: Sequence[str], evidence: Sequence[str]) -> list[tuple[str, int | None]]:
    """For each written sentence: the index of the evidence sentence that supports it, or None."""
    if not sentences:
        return []
    if not evidence:
        return [(s, None) for s in sentences]
    sims = relevance.similarity(list(sentences), list(evidence))
    best = np.argmax(sims, axis=1)
    return [
        (s, int(best[i]) if float(sims[i, best[i]]) >= relevance.thresholds.supports else None)
        for i, s in enumerate(sentences)
    ]
