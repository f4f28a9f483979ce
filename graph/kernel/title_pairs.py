"""Which section titles say the same thing: one rule for the planner's check and the eval's plan measure.

The planner (nodes/checks/plan.py) refused a plan holding two titles of one subject and the eval
(evals/plan.py) counted them, each by its own rule: the eval compared whole titles at the calibrated
`duplicate_title` cut-off, the planner also read what each title adds to the topic. So the eval counted
"Causes of the Black Death" / "Effects of the Black Death" as one subject (the long shared subject dominates
the embedding) while the planner kept both, and a report could fail the eval for a plan the planner had checked.
Both now read this rule, with the one calibrated threshold:

- same words (after "The"), the same words beyond the topic, or the same subject added to it, are one subject;
- close as wholes (the calibrated cut-off) is one subject, unless what sets the two apart is not: when they share
  a long subject with the topic (two words or more: "Causes of the Black Death" / "Effects of the Black Death"),
  or when each names a part of the topic the other does not ("The Amazon River" / "The Amazon Rainforest" of "The
  Amazon River and its rainforest", 0.77 as wholes), the words apart are compared instead ("river" /
  "rainforest", 0.38).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from nexa_research.kernel.title_words import FRAMING_WORDS
from nexa_research.kernel.words import STOPWORDS, content_words, stem, words

# cosine matrix of two lists of texts (the pipeline's `Relevance.similarity`, the eval's `Similarity.matrix`)
SimilarityMatrix = Callable[[list[str], list[str]], np.ndarray]

_QUESTION_WORDS = frozenset("how why what when where who which whether did does do was were is are".split())
# Words that place a subject within the topic without adding one: "Selim III's Role in Ottoman Empire" is the
# section "Selim III" of a report on the Ottoman Empire (a plan held both).
ROLE_WORDS = frozenset("role roles part place contribution contributions significance importance involvement".split())


_NUMBERING = re.compile(r"^\s*(?:(?:section|part|chapter)\s+)?(?:\d+|[ivxlc]+)\s*[.:)\-–]\s*", re.I)


def title_key(title: str) -> str:
    """A title as compared for identity: "The Silk Road", "Silk Road" and "2. Silk Road" name one subject."""
    title_words = words(_NUMBERING.sub("", title.strip()))
    return " ".join(title_words[1:] if title_words and title_words[0] in {"the", "a", "an"} else title_words)


def title_stems(text: str) -> set[str]:
    """The kernel's stems of a title's content words, less question words: "discovered"/"discovery" meet."""
    return {stem(w) for w in content_words(text) if w not in _QUESTION_WORDS}


def beyond_topic(title: str, topic_stems: set[str]) -> str:
    """The words of a title that the topic does not already say: "Causes" of "Causes of the Black Death" (a
    framing verb, "Understanding ...", says nothing)."""
    return " ".join(
        w for w in words(title) if stem(w) not in topic_stems and w not in STOPWORDS and w not in FRAMING_WORDS
    )


def _subject_added(own: str) -> frozenset[str]:
    """The stems a title adds to the topic, less possessives and role words: "selim iii's role" -> {selim, iii}."""
    return frozenset(stem(re.sub(r"['’]s$", "", w)) for w in own.split() if re.sub(r"['’]s$", "", w) not in ROLE_WORDS)


def _words_apart(first: str, second: str) -> tuple[str, str]:
    """The content words of each title that the other lacks (a framing verb is none)."""
    first_stems, second_stems = title_stems(first), title_stems(second)

    def lacking(title: str, other: set[str]) -> str:
        return " ".join(w for w in content_words(title) if stem(w) not in other and w not in FRAMING_WORDS)

    return lacking(first, second_stems), lacking(second, first_stems)


def duplicate_title_pairs(
    titles: Sequence[str], topic: str = "", similarity: SimilarityMatrix | None = None, threshold: float = 1.0
) -> list[tuple[int, int]]:
    """Index pairs (i < j) of titles that say the same thing; without `similarity`, by their words alone."""
    keys = [title_key(t) for t in titles]
    topic_stems = title_stems(topic)
    own = [beyond_topic(t, topic_stems) for t in titles]
    added = [_subject_added(o) for o in own]

    def same_words(i: int, j: int) -> bool:
        return keys[i] == keys[j] or bool(own[i] and own[i] == own[j]) or bool(added[i] and added[i] == added[j])

    if not titles or similarity is None:
        return [(i, j) for i in range(len(titles)) for j in range(i + 1, len(titles)) if same_words(i, j)]
    sims = similarity(list(titles), list(titles))
    shared = [title_stems(t) & topic_stems for t in titles]
    pairs = []
    for i in range(len(titles)):
        for j in range(i + 1, len(titles)):
            close = float(sims[i, j]) >= threshold
            # only a long shared subject (two words or more) drowns the difference ("History of Jazz" and "The
            # Legacy of Jazz" share one word and are close as wholes because they say nearly the same thing), or
            # two parts the topic names, one in each title
            parts_apart = bool(shared[i] - shared[j]) and bool(shared[j] - shared[i])
            if close and (len(shared[i] & shared[j]) >= 2 or parts_apart):
                # what sets the two apart: the words each adds to the topic, or, when the topic names them itself
                # ("Causes" / "Consequences" of "The causes and consequences of the Thirty Years' War", 0.48 apart
                # but one duplicate pair as wholes), the words one has and the other lacks
                a, b = (own[i], own[j]) if own[i] and own[j] else _words_apart(titles[i], titles[j])
                close = not (a and b) or float(similarity([a], [b])[0, 0]) >= threshold
            if same_words(i, j) or close:
                pairs.append((i, j))
    return pairs
