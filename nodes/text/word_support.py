"""Whether a model's sentence says only what its sources say, word for word enough to trust a small model.

Similar in meaning is not enough: a small model keeps the sources' vocabulary and slips in its own claims
("mass production", "revolutionized", "life-saving") or swaps the subject ("The Amazon River and its rainforest
is a major waterway" from "The Madeira River is a major waterway"), and an embedding scores both close to the
source. So the lead of a section and the editor's findings must take nearly every content word from the text
they stand on. Words are compared by the kernel's stems (nexa_research.kernel.words), so "discovered" and
"discovery" meet.
"""

from __future__ import annotations

from nexa_research.kernel.calibration import cutoff
from nexa_research.kernel.words import content_words, stem, stems

# Share of a sentence's content words that must appear in its sources. A section's lead stands on the sentences
# below it and may only re-say those of the one source it cites: 0.9, and its subject must be theirs. The editor's findings draw a section's
# facts together ("The Black Death reshaped labour in Europe, as wages rose and serfdom declined": 7 of 9) and
# may use a few words of their own, but not make claims of their own ("Antibiotics ... have revolutionized the
# treatment ... of modern medicine": 6 of 11): 0.7.
LEAD_SHARE = cutoff("lead_share")
FINDING_SHARE = cutoff("finding_share")
# The opening content words name what the sentence is about; a swapped subject is one new word among many.
SUBJECT_WORDS = 3


def content_stems(text: str) -> set[str]:
    """What a text claims, word by word: the kernel's stems of its content words (nexa_research.kernel.words)."""
    return stems(text)


def words_from(sentence: str, source_stems: set[str], share: float, *, same_subject: bool = False) -> bool:
    """True when at least `share` of the sentence's content words appear in the sources' stems and, with
    `same_subject`, its first content words (what it is about) all do."""
    words = [stem(w) for w in content_words(sentence)]
    if not words:
        return True
    if same_subject and not all(w in source_stems for w in words[:SUBJECT_WORDS]):
        return False
    return sum(w in source_stems for w in words) / len(words) >= share
