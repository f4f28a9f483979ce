"""Near-identical documents stored once: the same text as .html and .txt (a Sphinx tree's `_sources/*.rst.txt` beside
every page) doubled a 530-page manual to 1,027 documents and 34,131 chunks, and let one passage be cited twice.

Two files are compared when they share a stem (`asyncio-task.html`, `_sources/library/asyncio-task.rst.txt`) or
an identical text: near-identical when at least CONTAINMENT of the smaller one's word triples are in the other
(measured on the Python manual: a page against its reStructuredText source 0.89, 0.81 with word 5-grams; two
different pages share almost none). The richer format is kept: HTML, then Markdown, then PDF, then plain text.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CONTAINMENT = 0.8
_RANK = {".html": 0, ".htm": 0, ".xhtml": 0, ".md": 1, ".markdown": 1, ".pdf": 2}
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Candidate:
    """A document to compare: where it is, its text, and whether it is in the store already."""

    path: Path
    text: str
    stored: bool = False


def stem(path: Path) -> str:
    return path.name.split(".", 1)[0].lower()


def _triples(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def near_identical(a: str, b: str) -> bool:
    """Whether the smaller text's word triples are nearly all in the other."""
    return _contained(_triples(a), _triples(b), a, b)


def _contained(ta: set[tuple[str, ...]], tb: set[tuple[str, ...]], a: str, b: str) -> bool:
    if not ta or not tb:
        return " ".join(a.split()) == " ".join(b.split())
    return len(ta & tb) >= CONTAINMENT * min(len(ta), len(tb))


def _preference(candidate: Candidate) -> tuple[int, int, str]:
    """Lower is kept: a stored copy first (nothing to redo), then the richer format, then the shorter path."""
    return (0 if candidate.stored else 1, _RANK.get(candidate.path.suffix.lower(), 3), str(candidate.path))


def duplicates(candidates: Sequence[Candidate]) -> dict[Path, Path]:
    """Each new document that near-copies another, mapped to the one kept in its place."""
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        groups[stem(c.path)].append(c)
        groups["sha:" + hashlib.sha256(" ".join(c.text.split()).encode()).hexdigest()].append(c)
    found: dict[Path, Path] = {}
    triples: dict[Path, set[tuple[str, ...]]] = {}

    def same(a: Candidate, b: Candidate) -> bool:
        for c in (a, b):
            if c.path not in triples:
                triples[c.path] = _triples(c.text)
        return _contained(triples[a.path], triples[b.path], a.text, b.text)

    for group in groups.values():
        if len(group) < 2:
            continue
        ordered = sorted(group, key=_preference)
        kept: list[Candidate] = []
        for c in ordered:
            twin = next((k for k in kept if same(k, c)), None)
            if twin is None:
                kept.append(c)
            elif not c.stored and c.path not in found:
                found[c.path] = found.get(twin.path, twin.path)
    return found
