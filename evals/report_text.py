"""Where the text of a report is, as a reader meets it: every part, every sentence, every cited passage.

All evaluators read the report through these functions, so "a sentence" means the same thing in each of them.
Sentences are split per line (a heading or a list item on its own line is its own unit, which is how a reader
sees it) with the kernel's splitter, the one the pipeline writes by: it joins an abbreviation or an initial ("c.",
"J.") to what follows and gives citations written after the full stop ("... in 1450. [2]") back to their sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from nexa_research.kernel.sentences import CITATION, split_sentences
from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.report import BibliographyEntry, Report


@dataclass(frozen=True)
class Sentence:
    """One sentence of the report: where it is (`summary`, `introduction`, `section 2`, `transition 2`,
    `conclusion`), its text as written, and the bibliography numbers it cites."""

    where: str
    text: str
    cited: tuple[int, ...]

    @property
    def plain(self) -> str:
        """The sentence without its citation markers, as it is embedded and compared."""
        return " ".join(CITATION.sub("", self.text).split())


def report_parts(report: Report) -> list[tuple[str, str]]:
    """(where, text) for every part a reader reads, in reading order; missing sections have no text."""
    parts = [("summary", report.executive_summary), ("introduction", report.introduction)]
    for number, section in enumerate(report.sections, start=1):
        parts.append((f"transition {number}", section.transition))
        parts.append((f"section {number}", section.content))
    parts.append(("conclusion", report.conclusion))
    return [(where, text) for where, text in parts if text and text.strip()]


def split_text(text: str) -> list[str]:
    """The sentences of a text, line by line, cut by the kernel's one splitter (as the pipeline cuts them)."""
    return [sentence for line in text.splitlines() for sentence in split_sentences(line)]


def report_sentences(report: Report) -> list[Sentence]:
    """Every sentence of the report, each with its place and its citations."""
    return [
        Sentence(where, sentence, tuple(dict.fromkeys(cited_numbers(sentence))))
        for where, text in report_parts(report)
        for sentence in split_text(text)
    ]


def bibliography_by_number(report: Report) -> dict[int, BibliographyEntry]:
    return {entry.number: entry for entry in report.bibliography}


def cited_in_sections(report: Report) -> dict[int, list[int]]:
    """Section number (1-based) -> the bibliography numbers its content cites, in order, without repeats."""
    return {
        number: list(dict.fromkeys(cited_numbers(section.content)))
        for number, section in enumerate(report.sections, start=1)
    }


def word_count(text: str) -> int:
    """Words a reader reads: citation markers and stray punctuation are not words."""
    return sum(1 for token in CITATION.sub(" ", text).split() if any(c.isalnum() for c in token))
