"""Which section keeps a sentence that two sections print: the one it is about, not the one printed first.

Branches research apart, so two sections can print the same source sentence. The collator removes repeats
report-wide; left to first-come, a broad early section ("Key Events of the Mongol Empire", which took every
sentence when none matched it best) kept Batu Khan's and the Kazakh Khanate's opening sentences, and the later
"Batu Khan" section was left one stray line while "Kazakh Khanate" was left out altogether. Here the copy in the
section whose title and outline the sentence matches best is kept; the collator's first-come pass then removes
the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from nexa_research.nodes.text.citations import CITATION
from nexa_research.nodes.text.repetition import NEEDS_ANTECEDENT, drop_sentences, sentence_key, split_sentences
from nexa_research.providers.relevance import Relevance

MIN_WORDS = 4  # as the report-wide de-duplication: a short sentence may legitimately recur


def _bare_sentences(text: str) -> list[str]:
    return [CITATION.sub("", s).strip() for s in split_sentences(text.replace("\n\n", " "))]


def yield_to_owners(relevance: Relevance | None, about: Sequence[str], contents: Sequence[str]) -> tuple[list[str], int]:
    """`contents` (section texts in report order; `about[i]` is what section i is about) without the sentences
    that a later section also prints and matches better, and how many went. Sentences that lean on a removed one
    ("He ...") go with it."""
    out = list(contents)
    if relevance is None or len(contents) < 2:
        return out, 0
    bare = [[s for s in _bare_sentences(c) if len(sentence_key(s).split()) >= MIN_WORDS] for c in contents]
    flat = [s for sentences in bare for s in sentences]
    if not flat:
        return out, 0
    owner_of = [i for i, sentences in enumerate(bare) for _ in sentences]
    to_section = relevance.similarity(list(about), flat)  # [section, sentence]
    same = relevance.similarity(flat, flat)
    limit = relevance.thresholds.duplicate
    keys = [sentence_key(s) for s in flat]
    give_up: list[set[str]] = [set() for _ in contents]
    for a, text in enumerate(flat):
        i = owner_of[a]
        for b in range(len(flat)):
            j = owner_of[b]
            if j <= i or not (keys[a] == keys[b] or float(same[a, b]) >= limit):
                continue
            if float(to_section[j, b]) > float(to_section[i, a]):
                give_up[i].add(keys[a])
    removed = 0
    for i, keys_out in enumerate(give_up):
        if not keys_out:
            continue
        dropped_last = False

        def gives_up(sentence: str, keys_out: set[str] = keys_out) -> bool:
            nonlocal dropped_last
            bare_sentence = CITATION.sub("", sentence).strip()
            follows = dropped_last and bool(NEEDS_ANTECEDENT.match(bare_sentence))
            dropped_last = follows or sentence_key(bare_sentence) in keys_out
            return dropped_last

        out[i], count = drop_sentences(out[i], gives_up)
        removed += count
    return out, removed
