"""Extractive section writing: a section made of the on-topic passages of its sources, each cited.

A 0.5B-1.5B local model paraphrases badly: it repeats itself, drifts off the sources and invents facts. What it
cannot get wrong is a sentence it did not write. So a section is assembled in code from its sources' own text
(cleaned of debris by nodes/text/fragments.py), and the unit is the passage, not the sentence:

- each source gives one paragraph: its clean sentences in their own order, each cited, less the sentences off
  the section and topic. A sentence that leans on the one before it ("He discovered benzylpenicillin in 1928",
  "In addition, ...", "The term later took on ...": nexa_research.kernel.sentences) stays exactly when that one
  stays, so no sentence loses its subject and none that states the section's finding is dropped for opening on
  a pronoun (picking single best sentences across sources did both:
  a section on Alexander Fleming printed that he was a Scottish physician and not that he discovered penicillin);
- sources are taken best first, each up to `SOURCE_WORDS`, the section up to `MAX_WORDS` (the design's 400-800
  words a section, as far as the sources go); a sentence that near-copies one already taken goes, with the
  sentences that lean on it;
- which section prints a source two sections gathered is settled report-wide by the collator
  (nodes/text/ownership.py), which sees every section.
The model then writes only a short lead for the section, which is kept only where it is supported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nexa_research.kernel.sentences import leans_on_previous, starts_a_sentence
from nexa_research.nodes.checks.relevance import section_text
from nexa_research.nodes.text.fragments import passage_sentences
from nexa_research.providers.relevance import Relevance
from nexa_research.state import Paragraph, Source
from nexa_research.urls import normalize_url

MAX_WORDS = 800
# One source's share of a section: a long article's passage would otherwise fill the section alone.
SOURCE_WORDS = 180


@dataclass(frozen=True)
class Candidate:
    source: int  # 1-based number of the section's source
    position: int  # sentence index within that source
    text: str
    score: float
    opening: bool = False  # the first sentence of a document's opening part (not a chunk cut mid-article)
    document: str = ""  # the source's normalised URL: the parts of one document print together
    part: int = 0  # the source's chunk number within its document


def candidates(relevance: Relevance, topic: str, paragraph: Paragraph, sources: Sequence[Source]) -> list[Candidate]:
    """Every clean sentence of every source, scored: 0.6 x best match to the section or a question + 0.4 x topic."""
    sentences = [(n, i, s) for n, src in enumerate(sources, start=1) for i, s in enumerate(passage_sentences(src["text"]))]
    if not sentences:
        return []
    # a later part of a document may start at a sentence too, but it does not open the document: its first
    # sentence may lean on what came before it ("The fall ..." after the article's own opening)
    opens = {n for n, src in enumerate(sources, start=1)
             if src.get("chunk", 0) == 0 and starts_a_sentence(src["text"])}
    texts = [s for _, _, s in sentences]
    to_section = relevance.similarity([section_text(paragraph)], texts)[0]
    if paragraph["questions"]:
        to_section = np.maximum(to_section, relevance.similarity(paragraph["questions"], texts).max(axis=0))
    scores = 0.6 * to_section + 0.4 * relevance.similarity([topic], texts)[0]
    return [Candidate(n, i, text, float(score), opening=i == 0 and n in opens,
                      document=normalize_url(sources[n - 1]["url"]), part=sources[n - 1].get("chunk", 0))
            for (n, i, text), score in zip(sentences, scores, strict=True)]


def passage(sentences: Sequence[Candidate], min_score: float, max_words: int = SOURCE_WORDS) -> list[Candidate]:
    """One source's sentences worth printing, in order: those on the section, each leaning sentence with the one
    it leans on (brought in for it when need be), within `max_words` (the passage's opening is never cut for
    length). A leaning sentence follows the one it leans on whatever it scores: "The disease was caused by the
    bacterium Yersinia pestis ..." scores 0.24 against a section on the Black Death's causes."""
    ordered = sorted(sentences, key=lambda c: c.position)
    leaning = [leans_on_previous(c.text, first=c.opening) for c in ordered]
    # a sentence on the section brings the sentences it leans on, whatever they score: the Seventh Seal's "It
    # stars ... a medieval knight returning to Sweden during the Black Death" needs the opening that says what
    # "it" is, though the opening (a 1957 Swedish film) is not about the section at all
    wanted = [c.score >= min_score for c in ordered]
    for i in range(len(ordered) - 1, 0, -1):
        if wanted[i] and leaning[i] and ordered[i - 1].position == ordered[i].position - 1:
            wanted[i - 1] = True
    kept: list[Candidate] = []
    words = 0
    previous_kept = False
    for cand, leans, want in zip(ordered, leaning, wanted, strict=True):
        take = previous_kept if leans else want
        cost = len(cand.text.split())
        if take and kept and words + cost > max_words:
            break
        if take:
            kept.append(cand)
            words += cost
        previous_kept = take
    return kept


def without_near_copies(relevance: Relevance, group: list[Candidate], taken: Sequence[str]) -> list[Candidate]:
    """`group` less the sentences that near-copy one in `taken` or an earlier one of the group (a passage that
    repeats itself prints its point once), and less the sentences that lean on a dropped one."""
    kept: list[Candidate] = []
    dropped_last = False
    for cand in group:
        others = [*taken, *(c.text for c in kept)]
        copy = bool(others) and float(relevance.similarity([cand.text], others).max()) >= relevance.thresholds.duplicate
        dropped_last = copy or (dropped_last and leans_on_previous(cand.text, first=cand.opening))
        if not dropped_last:
            kept.append(cand)
    return kept


def select_passages(
    relevance: Relevance, pool: list[Candidate], *, min_score: float, max_words: int = MAX_WORDS
) -> list[Candidate]:
    """The sources' passages, best source first, within the section's word budget; no near-copies."""
    by_source: dict[int, list[Candidate]] = {}
    for cand in pool:
        by_source.setdefault(cand.source, []).append(cand)
    ranked = sorted(by_source, key=lambda n: -max(c.score for c in by_source[n]))
    chosen: list[Candidate] = []
    taken: list[str] = []
    words = 0
    for number in ranked:
        unique = without_near_copies(relevance, passage(by_source[number], min_score), taken)
        cost = sum(len(c.text.split()) for c in unique)
        if not unique or (chosen and words + cost > max_words):
            continue
        chosen += unique
        taken += [c.text for c in unique]
        words += cost
    return chosen


def arrange(chosen: Sequence[Candidate]) -> str:
    """One paragraph per document (best document first), its sentences in the document's order (part, then
    position), each cited [n]. Two parts of one article printed best first put its later sentences before its
    opening, and the first of them read as the article's start."""
    best: dict[str, float] = {}
    for c in chosen:
        key = c.document or str(c.source)
        best[key] = max(best.get(key, -1.0), c.score)
    paragraphs = []
    for key in sorted(best, key=lambda k: -best[k]):
        sentences = sorted((c for c in chosen if (c.document or str(c.source)) == key), key=lambda c: (c.part, c.source, c.position))
        paragraphs.append(" ".join(cite(c.text, c.source) for c in sentences))
    return "\n\n".join(paragraphs)


def cite(sentence: str, number: int) -> str:
    """`sentence` with `[number]` before its closing punctuation and after a closing quote: `the epithet "the
    Great" [2].`, not `"the Great [2]".` (the citation is the sentence's, not the quoted words')."""
    stripped = sentence.rstrip()
    end = len(stripped)
    while end and stripped[end - 1] in ".!?\"'”":
        end -= 1
    tail = stripped[end:]
    if not tail:
        return f"{stripped} [{number}]."
    quotes = "".join(c for c in tail if c in "\"'”")
    stops = "".join(c for c in tail if c in ".!?") or "."
    return f"{stripped[:end]}{quotes} [{number}]{stops}"


def extract_section(
    relevance: Relevance,
    topic: str,
    paragraph: Paragraph,
    sources: Sequence[Source],
    *,
    min_score: float | None = None,
) -> tuple[str, list[Candidate]]:
    """The section text built from its sources' passages, and the sentences chosen (for the lead and for checks)."""
    threshold = relevance.thresholds.on_section if min_score is None else min_score
    chosen = select_passages(relevance, candidates(relevance, topic, paragraph, sources), min_score=threshold)
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
