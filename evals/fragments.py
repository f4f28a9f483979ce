"""Sentences a reader would call broken: what a model leaves behind when its prose is not finished prose.

Each sentence of every part gets at most one kind, the first that applies, most specific first:
- markup: Markdown or HTML left in the text (`**`, `##`, backticks, list markers, `[...]` that is not a
  numeric citation, tags, entities);
- foreign_script: CJK, Cyrillic, Arabic, Hebrew, Devanagari or Thai characters in a report written in English
  (small models drift into another script mid-sentence);
- label: a label or list heading left over ("Key points:", "Sources: [1], [2]", "Note: ...");
- question: the report should state findings, not ask;
- short: one or two words;
- unterminated: no closing . ! or ? (or a trailing ellipsis): cut off mid-sentence.
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import report_sentences
from nexa_research.kernel.sentences import CITATION
from nexa_research.report import Report

KINDS = ("markup", "foreign_script", "label", "question", "short", "unterminated")

_MARKUP = re.compile(
    r"\*\*|__|`|(?:^|\s)#{1,6}(?=\s|$)|^\s*(?:[-*+•]|\d+[.)])\s|</?[A-Za-z][^>]*>|&(?:[a-z]+|#\d+);"
    r"|\[(?!\s*\d+(?:\s*[-–,]\s*\d+)*\s*\])[^\]]*\]"
)
_FOREIGN = re.compile(
    "[\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u3000-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef\ufffd]"
)
_LABEL = re.compile(
    r"^(?:key\s+points?|key\s+takeaways?|takeaways?|notes?|summary|in\s+summary|sources?|references?|citations?|"
    r"answer|question|title|section(?:\s+\d+)?|paragraph|outline|findings|conclusion|introduction|overview)\s*:",
    re.I,
)
_CLOSERS = "\"'”’)]* "


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


def fragment_kind(sentence: str, english: bool = True) -> str | None:
    """The kind of fragment `sentence` is, or None for a sound sentence."""
    text = sentence.strip()
    if _MARKUP.search(text):
        return "markup"
    if english and _FOREIGN.search(text):
        return "foreign_script"
    plain = " ".join(CITATION.sub(" ", text).split()).rstrip(_CLOSERS)
    if _LABEL.match(plain) or plain.endswith(":"):
        return "label"
    if plain.endswith("?"):
        return "question"
    if len(re.findall(r"\w+", plain)) <= 2:
        return "short"
    if not plain.endswith((".", "!", "?")) or plain.endswith(("...", "…")):
        return "unterminated"
    return None


def is_english(report: Report) -> bool:
    language = str(report.metadata.config.get("language") or "English").strip().lower()
    return language.startswith("en")


def score_fragments(report: Report) -> Fragments:
    english = is_english(report)
    items = []
    for sentence in report_sentences(report):
        kind = fragment_kind(sentence.text, english)
        if kind:
            items.append(Fragment(where=sentence.where, kind=kind, sentence=sentence.text))
    return Fragments(items=items)
