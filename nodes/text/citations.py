"""Citations, checked in code: the model writes [n]; code decides which n are real.

A section cites its own sources as [1]..[k] (the order they were gathered). `repair_citations` removes numbers
outside 1..k; `renumber_report` maps every section's local numbers to one global numbering with one entry per
normalised URL, so a citation to a source that was never retrieved cannot reach the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nexa_research.kernel.sentences import CITATION
from nexa_research.state import Source
from nexa_research.urls import normalize_url

# Where the provisional numbers of sources offered beside the bibliography start (`BibliographyBuilder.admit_cited`).
EXTRA_NUMBERS = 100_000


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*,\s*", group):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2:
            lo, hi = int(bounds[0]), int(bounds[1])
            out.extend(range(lo, hi + 1) if 0 < hi - lo < 50 else [lo, hi])
        else:
            out.append(int(bounds[0]))
    return out


def cited_numbers(text: str) -> list[int]:
    """Every number cited in `text`, in order of appearance, ranges expanded."""
    return [n for m in CITATION.finditer(text) for n in _numbers(m.group(1))]


def _rewrite(text: str, mapping: Callable[[int], int | None]) -> str:
    def replace(match: re.Match[str]) -> str:
        kept: list[int] = []
        for n in _numbers(match.group(1)):
            new = mapping(n)
            if new is not None and new not in kept:
                kept.append(new)
        return "".join(f"[{n}]" for n in kept)

    rewritten = CITATION.sub(replace, text)
    rewritten = re.sub(r"(\[\d+\])(?:\1)+", r"\1", rewritten)
    return re.sub(r"[ \t]+([.,;:])", r"\1", rewritten)


@dataclass
class RepairResult:
    text: str
    invalid: list[int]
    valid: list[int]


def repair_citations(text: str, source_count: int) -> RepairResult:
    """Drop citation numbers outside 1..source_count and normalise forms like [1, 2] to [1][2]."""
    numbers = cited_numbers(text)
    invalid = [n for n in numbers if not 1 <= n <= source_count]
    valid = sorted({n for n in numbers if 1 <= n <= source_count})
    fixed = _rewrite(text, lambda n: n if 1 <= n <= source_count else None)
    return RepairResult(text=fixed, invalid=invalid, valid=valid)


@dataclass
class BibliographyBuilder:
    """Assigns global numbers in order of first citation, one per normalised URL."""

    numbers: dict[str, int] = field(default_factory=dict)
    entries: list[dict] = field(default_factory=list)

    def number_for(self, source: Source) -> int:
        key = normalize_url(source["url"])
        if key not in self.numbers:
            self.numbers[key] = len(self.entries) + 1
            self.entries.append(
                {"number": self.numbers[key], "url": source["url"], "title": source["title"], "source_ids": [], "passages": []}
            )
        entry = self.entries[self.numbers[key] - 1]
        if source["id"] not in entry["source_ids"]:
            entry["source_ids"].append(source["id"])
            entry["passages"].append(source["text"])
        return self.numbers[key]

    def renumber_section(self, text: str, sources: Sequence[Source]) -> str:
        """Rewrite a section's local [n] (1-based into `sources`) into global numbers; unknown n are dropped."""

        def to_global(n: int) -> int | None:
            return self.number_for(sources[n - 1]) if 1 <= n <= len(sources) else None

        return _rewrite(text, to_global)

    def admit_cited(self, texts: Sequence[str], extra: Sequence[Source]) -> list[str]:
        """`texts` cited against the bibliography and `extra`, whose i-th source is cited as `EXTRA_NUMBERS + i`
        (no model writes such a number, so nothing else can cite it): each extra source they cite gets its entry, in
        order of first citation, and they cite its real number; other numbers outside the bibliography are dropped.
        An extra source nobody cites gets no entry."""
        base = len(self.entries)

        def to_real(n: int) -> int | None:
            if 1 <= n <= base:
                return n
            if EXTRA_NUMBERS < n <= EXTRA_NUMBERS + len(extra):
                return self.number_for(extra[n - EXTRA_NUMBERS - 1])
            return None

        return [_rewrite(text, to_real) for text in texts]

    def keep_known(self, text: str) -> str:
        """For text written against the global numbering (collator): drop numbers with no bibliography entry."""
        count = len(self.entries)
        return _rewrite(text, lambda n: n if 1 <= n <= count else None)
