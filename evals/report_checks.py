"""Deterministic checks of a finished report: what a reader would verify by hand, measured in code.

- citations_resolve: every [n] in the text has bibliography entry n.
- unique_sources: no URL appears twice in the bibliography.
- citation_coverage: share of sentences in sections that cite at least one source.
- grounding: share of cited sentences whose content words mostly appear in the sources they cite (a cheap,
  strict proxy for "written from the sources"; it needs the run's sources, from the graph state).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from nexa_research.nodes.citations import cited_numbers
from nexa_research.nodes.grounding import content_words
from nexa_research.nodes.repetition import split_sentences
from nexa_research.report import Report
from nexa_research.urls import normalize_url

@dataclass
class ReportScore:
    sections: int
    missing_sections: int
    words: int
    bibliography: int
    citations_resolve: bool
    unique_sources: bool
    citation_coverage: float
    grounding: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _all_texts(report: Report) -> list[str]:
    texts = [report.executive_summary, report.introduction, report.conclusion]
    return texts + [s.content for s in report.sections] + [s.transition for s in report.sections]


def grounding(report: Report, source_texts: Mapping[str, str], min_overlap: float = 0.5) -> float:
    """Share of cited sentences with at least `min_overlap` of their content words in the cited sources' text.

    `source_texts` maps bibliography URL (normalised) to the concatenated text retrieved under it.
    """
    by_number = {e.number: source_texts.get(normalize_url(e.url), "") for e in report.bibliography}
    checked = grounded = 0
    for section in report.sections:
        for sentence in split_sentences(section.content):
            numbers = cited_numbers(sentence)
            words = content_words(re.sub(r"\[\d+\]", "", sentence))
            if not numbers or not words:
                continue
            checked += 1
            cited = content_words(" ".join(by_number.get(n, "") for n in numbers))
            if len(words & cited) / len(words) >= min_overlap:
                grounded += 1
    return grounded / checked if checked else 0.0


def score_report(report: Report, sources: Sequence[Mapping[str, str]] | None = None) -> ReportScore:
    numbers = {e.number for e in report.bibliography}
    resolve = all(n in numbers for text in _all_texts(report) for n in cited_numbers(text))
    urls = [normalize_url(e.url) for e in report.bibliography]
    sentences = [s for sec in report.sections for s in split_sentences(sec.content)]
    cited = [s for s in sentences if cited_numbers(s)]
    texts: dict[str, str] = {}
    for source in sources or []:
        key = normalize_url(source["url"])
        texts[key] = f"{texts.get(key, '')} {source['title']} {source['text']}"
    return ReportScore(
        sections=len(report.sections),
        missing_sections=len(report.missing_sections),
        words=sum(len(s.content.split()) for s in report.sections),
        bibliography=len(report.bibliography),
        citations_resolve=resolve,
        unique_sources=len(urls) == len(set(urls)),
        citation_coverage=round(len(cited) / len(sentences), 3) if sentences else 0.0,
        grounding=round(grounding(report, texts), 3) if sources is not None else None,
    )
