"""Cleaning of model prose, in code: small models loop and add headings, and sections researched apart overlap.

Sentences are compared after dropping citation markers, case and punctuation, so "X is Y [2]." and "x is y [5]"
count as the same sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nexa_research.kernel.sentences import CITATION, NEEDS_ANTECEDENT, sentence_key, split_sentences, written_alone
from nexa_research.providers.relevance import Relevance

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s.*$|^\s*(\*\*[^*]+\*\*|[A-Z][^.!?]{0,60}:)\s*$", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+|^\s*\*\*[^*\n]{1,60}\*\*:?\s*", re.MULTILINE)


_TITLE_LINE = re.compile(r"^[^\n.!?]{1,80}$")


def as_plain_paragraphs(text: str) -> str:
    """Model text as prose: headings and title lines the model added are dropped and list markers removed
    (sections get their heading from the plan; small models add their own)."""
    lines = _BULLET.sub("", _HEADING.sub("", text)).splitlines()
    kept = [line for line in lines if not (_TITLE_LINE.match(line.strip()) and len(line.split()) <= 8 and "[" not in line)]
    return "\n".join(kept).strip()


def without_questions(text: str) -> str:
    """A report states findings; questions a model writes into its prose (often copied from the plan) go."""
    return drop_sentences(text, lambda s: CITATION.sub("", s).rstrip().endswith("?"))[0]


def drop_sentences(text: str, is_repeat: Callable[[str], bool]) -> tuple[str, int]:
    """`text` without the sentences `is_repeat` flags (it sees each sentence once, in order); paragraphs kept."""
    return keep_sentences(text, lambda sentences, k: None if is_repeat(sentences[k]) else sentences[k])


def keep_sentences(text: str, keep: Callable[[list[str], int], str | None]) -> tuple[str, int]:
    """`text` with each sentence as `keep` makes it (given its paragraph's sentences and its index; None drops
    it), each seen once, in order; paragraphs kept. Returns the text and how many sentences were dropped."""
    removed = 0
    paragraphs_out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        sentences = split_sentences(paragraph)
        kept: list[str] = []
        for k in range(len(sentences)):
            sentence = keep(sentences, k)
            if sentence is None:
                removed += 1
            else:
                kept.append(sentence.strip())
        if kept:
            paragraphs_out.append(" ".join(kept))
    return "\n\n".join(paragraphs_out), removed


def without_orphans(text: str) -> tuple[str, int]:
    """Drop the pronoun-led sentences that open a paragraph ("He shared the 1945 Nobel Prize ..."): once what came
    before them in their source is gone (a fragment, a repeat), they point at nothing."""
    removed = 0
    paragraphs_out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        sentences = split_sentences(paragraph)
        while sentences and NEEDS_ANTECEDENT.match(CITATION.sub("", sentences[0]).strip()):
            sentences.pop(0)
            removed += 1
        if sentences:
            paragraphs_out.append(" ".join(s.strip() for s in sentences))
    return "\n\n".join(paragraphs_out), removed


def drop_repeated_sentences(text: str, seen: set[str] | None = None, min_words: int = 4) -> tuple[str, int]:
    """Drop every sentence whose key was seen before (in this text or in `seen`, which is updated).

    Very short sentences (under `min_words` words) are kept: "It failed." may legitimately recur.
    Returns the cleaned text (paragraph breaks kept) and how many sentences were removed.
    """
    seen = set() if seen is None else seen

    def is_repeat(sentence: str) -> bool:
        key = sentence_key(sentence)
        if len(key.split()) >= min_words and key in seen:
            return True
        seen.add(key)
        return False

    return drop_sentences(text, is_repeat)


def drop_near_duplicates(relevance: Relevance | None, text: str, earlier: list[str], min_words: int = 4) -> tuple[str, int]:
    """Drop sentences that say what an earlier one said (exact key, or similarity at the scorer's duplicate level).

    `earlier` holds the bare sentences already printed anywhere in the report; kept sentences are appended to it,
    so calling this section after section removes repetition across the whole report. A sentence that leans on a
    dropped one ("Its modern form ...") goes with it, unless it leans only by a pronoun for the subject its
    passage named: it stays, written out ("It was one of the most fatal pandemics" after a repeated definition of
    the Black Death: "The Black Death was one of ...", kernel `written_alone`), so a repeat no longer takes the
    sentences after it that said something new.
    """
    keys = {sentence_key(e) for e in earlier}
    dropped_last = False

    def keep(sentences: list[str], k: int) -> str | None:
        nonlocal dropped_last
        sentence = sentences[k]
        bare = CITATION.sub("", sentence).strip()
        forms = [bare]  # the sentence as its source has it, and written out when it is
        if dropped_last and NEEDS_ANTECEDENT.match(bare):
            alone = written_alone(sentences[:k], sentence)
            if alone is None:
                return None
            sentence = alone
            forms.insert(0, CITATION.sub("", alone).strip())
        # a written-out sentence is a repeat when either form is: the name can carry it under the cut-off
        # ("As a philosopher of science, he was ..." printed, "... Ernst Waldfried Josef Wenzel Mach was ...")
        dropped_last = any(_repeats(relevance, form, earlier, keys, min_words) for form in forms)
        if dropped_last:
            return None
        for form in forms:  # a later section may print either form
            earlier.append(form)
            keys.add(sentence_key(form))
        return sentence

    return keep_sentences(text, keep)


def _repeats(relevance: Relevance | None, bare: str, earlier: list[str], keys: set[str], min_words: int) -> bool:
    """`bare` says what one of `earlier` said: the same key, or similar at the scorer's duplicate level."""
    key = sentence_key(bare)
    if len(key.split()) < min_words or not earlier:
        return False
    if key in keys:
        return True
    return relevance is not None and float(relevance.similarity([bare], earlier).max()) >= relevance.thresholds.duplicate
