"""The ways a report is written out (markdown, html, json), named once: `nexa research --format`, `nexa report
--format` and the server's `GET /threads/{id}/report?format=` accept the same names and give the same text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nexa_research.errors import ResearchInputError
from nexa_research.report import Report
from nexa_research.report_html import render_html


@dataclass(frozen=True)
class ReportFormat:
    name: str
    suffix: str
    media_type: str
    render: Callable[[Report], str]


FORMATS: dict[str, ReportFormat] = {
    "markdown": ReportFormat("markdown", ".md", "text/markdown; charset=utf-8", Report.to_markdown),
    "html": ReportFormat("html", ".html", "text/html; charset=utf-8", render_html),
    "json": ReportFormat("json", ".json", "application/json", lambda report: report.to_json()),
}


def report_format(name: str, field: str = "format") -> ReportFormat:
    """The format called `name`; a clear error naming `field` for any other name."""
    found = FORMATS.get(name.strip().lower())
    if found is None:
        raise ResearchInputError(f"{field}: {name!r} is not a report format; use one of {', '.join(FORMATS)}")
    return found
