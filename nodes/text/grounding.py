"""Grounding, in code: a section keeps only sentences its sources support.

Small models copy the numbered source list into their answer, forget citations, and invent facts. After
citation repair, each sentence without a citation is compared with the sources by content words: one mostly
found in a source gets that source's [n]; a substantive one found in none is dropped. Sentences the model
cited are kept (their numbers were already checked). Short connective sentences are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nexa_research.kernel.sentences import CITATION, split_sentences
from nexa_research.kernel.words import stems
from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.state import Source

# "[2] Printing (https://...)" lines: the model repeating the source list it was given
_SOURCE_ECHO = re.compile(r"^\s*\[\d+\]\s+.*\((?:https?|file)://[^)]*\)\s*$", re.MULTILINE)


@dataclass
class GroundedText:
    text: str
    attributed: int
    dropped: int

    @property
    def cited(self) -> int:
        return len(cited_numbers(self.text))


def _with_citation(sentence: str, number: int) -> str:
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]} [{number}]{stripped[-1]}"
    return f"{stripped} [{number}]"


def ground_section(text: str, sources: Sequence[Source], min_support: float = 0.6, short: int = 4) -> GroundedText:
    """Cite uncited sentences from the source that supports them, drop unsupported ones (see module doc).

    `sources` are the section's numbered sources, [1] first. A sentence with fewer than `short` content words
    is connective and kept.
    """
    source_words = [stems(f"{s['title']} {s['text']}") for s in sources]
    attributed = dropped = 0
    paragraphs: list[str] = []
    for paragraph in re.split(r"\n\s*\n", _SOURCE_ECHO.sub("", text).strip()):
        kept: list[str] = []
        for sentence in split_sentences(paragraph):
            words = stems(CITATION.sub("", sentence))
            if cited_numbers(sentence) or len(words) < short:
                kept.append(sentence.strip())
                continue
            support = [len(words & sw) / len(words) for sw in source_words]
            best = max(range(len(support)), key=support.__getitem__, default=None)
            if best is not None and support[best] >= min_support:
                kept.append(_with_citation(sentence, best + 1))
                attributed += 1
            else:
                dropped += 1
        if kept:
            paragraphs.append(" ".join(kept))
    return GroundedText(text="\n\n".join(paragraphs), attributed=attributed, dropped=dropped)
