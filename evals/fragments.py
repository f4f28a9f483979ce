"""Sentences a reader would call broken: what a model leaves behind when its prose is not finished prose.

Each sentence of every part gets at most one kind, the first that applies, most specific first:
- navigation: a document's page furniture ("Prev Up Next Chapter 13"): two or more of Prev, Previous, Up, Next,
  Home as capitalised words, the first of them opening the sentence;
- glued_heading: a sentence that opens with a heading of the page it cites, run into the text after it without
  a stop ("Vacuuming Basics PostgreSQL's VACUUM command ...", "Tip When the ..."); the headings are read from the
  cited pages when they are local HTML files (`cited_headings`);
- then the kernel's kinds of a broken sentence (kernel/fragments.py: markup, foreign_script, label, question,
  short, unterminated), the one definition the pipeline prints by too.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import report_sentences
from nexa_research.kernel.fragments import KINDS as BROKEN_KINDS
from nexa_research.kernel.fragments import broken_kind
from nexa_research.kernel.sentences import CITATION
from nexa_research.report import Report

KINDS = ("navigation", "glued_heading", *BROKEN_KINDS)
_FURNITURE = ("Prev", "Previous", "Up", "Next", "Home")
_LABELS = frozenset({"Note", "Tip", "Warning", "Caution", "Important", "Hint", "Attention", "Danger"})
_HEADING_NUMBER = re.compile(r"^\s*(?:(?:Chapter|Part|Appendix|Section)\s+\S+?[.:]?\s+|\d+(?:\.\d+)*\.?\s+|[A-Z](?:\.\d+)+\.?\s+)")

class Fragment(BaseModel):
    where: str
    kind: str
    sentence: str


class Fragments(BaseModel):
    items: list[Fragment]

    @computed_field
    @property
    def count(self) -> int:
        return len(self.items)

    @computed_field
    @property
    def by_kind(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.items))


def navigation(text: str) -> bool:
    tokens = re.findall(r"[A-Za-z]+", text)
    return bool(tokens) and tokens[0] in _FURNITURE and len({t for t in tokens if t in _FURNITURE}) >= 2


def glued_heading(text: str, headings: Collection[str]) -> bool:
    """Opens with a heading followed by a capitalised word that starts the next sentence ("Tip When ...")."""
    for heading in headings:
        if text.startswith(heading + " "):
            rest = text[len(heading) + 1:]
            if re.match(r"[A-Z][a-z]", rest) and len(rest.split()) >= 3:
                return True
    return False


def cited_headings(report: Report) -> set[str]:
    """The headings (numbering removed) of every cited page that is a readable local HTML file."""
    found: set[str] = set()
    for entry in report.bibliography:
        parts = urlsplit(entry.url)
        path = Path(unquote(parts.path))
        if parts.scheme != "file" or path.suffix.lower() not in (".html", ".htm", ".xhtml") or not path.is_file():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "lxml")
        for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "dt"]):
            heading = _HEADING_NUMBER.sub("", " ".join(tag.get_text().replace("¶", "").split()))
            # one word is too common to tell a glued heading from a phrase ("Isolation Level: Serializable" is a
            # table row, not the glossary's "Isolation" run into a sentence), except an admonition's label
            if len(heading.split()) >= 2 or heading in _LABELS:
                found.add(heading)
    return found


def fragment_kind(sentence: str, english: bool = True, headings: Collection[str] = ()) -> str | None:
    """The kind of fragment `sentence` is, or None for a sound sentence."""
    text = sentence.strip()
    if navigation(text):
        return "navigation"
    if headings and glued_heading(" ".join(CITATION.sub(" ", text).split()), headings):
        return "glued_heading"
    return broken_kind(text, english)


def is_english(report: Report) -> bool:
    language = str(report.metadata.config.get("language") or "English").strip().lower()
    return language.startswith("en")


def score_fragments(report: Report) -> Fragments:
    english = is_english(report)
    headings = cited_headings(report)
    items = []
    for sentence in report_sentences(report):
        kind = fragment_kind(sentence.text, english, headings)
        if kind:
            items.append(Fragment(where=sentence.where, kind=kind, sentence=sentence.text))
    return Fragments(items=items)
