"""A hand-made report for the evaluation suite's tests: real corpus passages, no defect, and variants of it.

Each eval test plants ONE defect in this clean report (other sections, another summary, an extra source) and
checks that the evaluators find that defect and nothing else.
"""

from __future__ import annotations

import functools
import json

from nexa_research.providers.kb.ingest import wikipedia_data_path, wikipedia_url
from nexa_research.report import BibliographyEntry, Report, ReportMetadata, ReportSection

TOPIC = "The history of the printing press"
EXPECTED = [wikipedia_url("Printing press"), wikipedia_url("Johannes Gutenberg")]
SECTIONS = [
    ("Gutenberg's movable-type press",
     "Johannes Gutenberg was a German craftsman who invented the movable-type printing press [2]. "
     "His press allowed a much faster rate of printing than earlier methods [2].", ""),
    ("How a printing press works",
     "A printing press transfers ink onto paper or cloth by pressing an inked surface against it [1]. "
     "Before the press, printers rubbed the paper by hand to transfer the ink [1].",
     "The machine itself explains why the technique caught on."),
    ("Printing before Gutenberg",
     "Movable type was invented by Bi Sheng around 1040, centuries before Gutenberg's press [3]. "
     "The earliest printing used ink rubbings taken from texts carved on stone tablets [3].",
     "Gutenberg did not start from nothing."),
]
SUMMARY = "The printing press changed book production and communication in early modern Europe [1]."


@functools.cache
def corpus_extract(title: str) -> str:
    articles = json.loads(wikipedia_data_path().read_text(encoding="utf-8"))
    return next(a["extract"] for a in articles.values() if a["title"] == title)


def make_report(sections=SECTIONS, summary: str = SUMMARY, extra_sources: tuple[tuple[int, str], ...] = ()) -> Report:
    """The clean report, or a variant of it; sources are real corpus passages."""
    sources = [(1, "Printing press"), (2, "Johannes Gutenberg"), (3, "Printing"), *extra_sources]
    return Report(
        title="The printing press",
        topic=TOPIC,
        executive_summary=summary,
        introduction="This report follows the printing press from its invention to its effects on European culture.",
        sections=[ReportSection(index=i, title=t, content=c, transition=tr, status="done")
                  for i, (t, c, tr) in enumerate(sections)],
        conclusion="Printing later spread worldwide and fed the Renaissance and the Reformation [2].",
        bibliography=[
            BibliographyEntry(number=n, url=wikipedia_url(t), title=t, source_ids=[f"s{n}"], passages=[corpus_extract(t)])
            for n, t in sources
        ],
        metadata=ReportMetadata(
            topic=TOPIC, created_at="2026-01-01T00:00:00+00:00", models={"synthesizer": ["stub-model"]},
            prompt_versions={"synthesizer": "abc123"}, config={"language": "English"},
            token_usage={"synthesizer": {"input_tokens": 120, "output_tokens": 60}},
        ),
    )
