"""Findings for the summary, introduction or conclusion from what the cited sources say that no section printed.

When the sections are too short to give a sentence up (nodes/text/key_findings.py moves a sentence only from a
section that keeps `MIN_LEFT`), the summary, introduction and conclusion used to fall back to sentences about the
report ("This report examines the Hanseatic League ... in 2 sections", "The report stops where its sources
stop"). But a section prints a few sentences of each passage it cites, and the passage holds more: "The Hanseatic
League ... expanded between the 13th and 15th centuries" printed, "Its merchants traded timber, furs, ..." not.
Those sentences are the sources' own words under a number the bibliography already has, so they are supported by
construction, repeat nothing, and state findings. The sources the sections gathered and printed nothing of
(nodes/collator.py `gathered_uncited`) are offered the same way; one that gives a sentence enters the bibliography. A sentence qualifies when it stands alone (it leans on no
sentence before it), is not a near-repeat of one printed, and is about the topic (at the on-topic cut-off).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nexa_research.kernel.sentences import (
    CITATION,
    leans_on_previous,
    named_subject,
    sentence_key,
    split_sentences,
    with_subject_named,
)
from nexa_research.nodes.text.extractive import cite
from nexa_research.nodes.text.fragments import MIN_WORDS, passage_sentences
from nexa_research.providers.relevance import Relevance

# Up front, away from its passage, a sentence must read alone: "Furs and wax ... were its chief exports" names
# its subject nowhere (the Novgorod Republic, two sentences back).
REFERS_BACK = re.compile(r"\b(?:it|its|he|his|him|she|her|they|their|them)\b", re.I)


def _standalone_forms(sentences: list[str]) -> list[tuple[str, str | None]]:
    """The passage's sentences, each one that leans on the sentence before it only by a pronoun for the subject
    that sentence names written out ("Historically, it has been a major link on the Northern Silk Road" after
    "Lanzhou ... is the capital of Gansu" reads "Historically, Lanzhou has been ..."): it then names what it is
    about, and a pronoun later in it stands for that. Each with the sentence as the passage wrote it when it was
    written out (None otherwise): a section may have printed that form."""
    out: list[tuple[str, str | None]] = []
    for i, sentence in enumerate(sentences):
        subject = named_subject(sentences[i - 1]) if i and leans_on_previous(sentence) else None
        renamed = with_subject_named(sentence, subject) if subject else None
        out.append((renamed, sentence) if renamed else (sentence, None))
    return out


@dataclass
class _Candidate:
    number: int
    text: str
    score: float


@dataclass
class UnprintedFindings:
    """Sentences of the cited passages that no section printed, best first; `take` hands them out once each."""

    candidates: list[_Candidate] = field(default_factory=list)

    def take(self, count: int) -> str:
        """Up to `count` sentences, each cited, from different sources where the pool allows."""
        chosen: list[_Candidate] = []
        for candidate in list(self.candidates):
            if len(chosen) >= count:
                break
            if any(c.number == candidate.number for c in chosen) and self._other_sources_left(chosen):
                continue
            chosen.append(candidate)
            self.candidates.remove(candidate)
        return " ".join(cite(c.text, c.number) for c in chosen)

    def _other_sources_left(self, chosen: Sequence[_Candidate]) -> bool:
        used = {c.number for c in chosen}
        return any(c.number not in used for c in self.candidates)


def unprinted_findings(
    relevance: Relevance, topic: str, passages: Sequence[tuple[int, str]], printed: Sequence[str]
) -> UnprintedFindings:
    """The sentences of `passages` ((bibliography number, passage text) of every cited source) that no printed
    sentence says, standalone and about `topic`, closest to it first."""
    printed_bare = [" ".join(CITATION.sub("", s).split()) for p in printed for s in split_sentences(p) if s.strip()]
    printed_keys = {sentence_key(p) for p in printed_bare}
    # a section may print a sentence glued to the next one where no sentence break is read ("... England [1].
    # (for example ...)"): the two then compare as one long sentence, too unlike the short one to count as its
    # duplicate, so a key printed inside a longer one (or holding a printed one) is a repeat too
    printed_run = f" {' | '.join(printed_keys)} "
    long_printed = [k for k in printed_keys if len(k.split()) >= MIN_WORDS]
    pool: list[tuple[int, str, str]] = []  # (number, the sentence as offered, as the passage wrote it)
    seen: set[str] = set()
    for number, passage in passages:
        for sentence, original in _standalone_forms(passage_sentences(passage)):
            key = sentence_key(sentence)
            # first=False for every sentence: a passage may be a chunk cut from the middle of its document, where
            # "The league ..." names what the cut-off text introduced
            if (key in seen or len(key.split()) < MIN_WORDS
                    or any(_printed_in(k, printed_run, long_printed) for k in (key, sentence_key(original or "")) if k)
                    or leans_on_previous(sentence) or (original is None and REFERS_BACK.search(sentence))):
                continue
            seen.add(key)
            pool.append((number, sentence, original or sentence))
    if not pool:
        return UnprintedFindings()
    texts = [s for _, s, _ in pool]
    to_topic = relevance.similarity([topic], texts)[0]
    # a written-out sentence repeats a section that printed it as the passage wrote it: "Neil Alden Armstrong was
    # also a naval aviator, test pilot and university professor" under "He was also a naval aviator, ..." (0.78
    # apart: the name weighs in the comparison), so each form is compared and the closer counts
    repeats = relevance.similarity(texts, printed_bare).max(axis=1) if printed_bare else None
    renamed = [i for i, (_, sentence, original) in enumerate(pool) if original != sentence]
    if repeats is not None and renamed:
        as_written = relevance.similarity([pool[i][2] for i in renamed], printed_bare).max(axis=1)
        repeats[renamed] = np.maximum(repeats[renamed], as_written)
    # about the topic as a source must be to enter the report (a sentence the section floor let in: "The Hieronymus
    # Bosch exhibition of 2016 drew many visitors to the Netherlands", 0.31 against a Hanseatic League topic)
    floor = relevance.thresholds.on_topic
    candidates = [
        _Candidate(number, sentence, float(to_topic[i]))
        for i, (number, sentence, _) in enumerate(pool)
        if float(to_topic[i]) >= floor and (repeats is None or float(repeats[i]) < relevance.thresholds.duplicate)
    ]
    return UnprintedFindings(sorted(candidates, key=lambda c: -c.score))


def _printed_in(key: str, printed_run: str, long_printed: Sequence[str]) -> bool:
    """Whether a sentence key was printed, whole or inside (or around) a longer printed sentence."""
    return f" {key} " in printed_run or any(f" {k} " in f" {key} " for k in long_printed)
