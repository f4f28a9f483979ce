"""What a broken sentence is: one definition for what the pipeline prints and what the eval counts.

The pipeline (nodes/text/fragments.py) and the eval (evals/fragments.py) each had their own patterns for markup,
labels, other scripts and unfinished sentences, and they disagreed: the eval counted "Fish &amp; chips ..." and a
trailing "..." as fragments that the pipeline let through, so a report could fail its own measure with sentences
its filter had passed. Here is the one definition, a kind per sentence, the first that applies:

- markup: Markdown or HTML left in the text (`**`, `__`, backticks, `#` headings, list markers, tags, entities,
  `[...]` that is not a numeric citation);
- foreign_script: letters of another writing system (CJK, Cyrillic, Arabic, Hebrew, Devanagari, Thai, a replaced
  character) in a report written in English: small models drift into another script mid-sentence;
- label: a label or list heading left over ("Key points:", "Sources: [1], [2]", "Note: ...", a line ending ":");
- question: a report states findings;
- short: one or two words;
- unterminated: no closing . ! or ?, or a trailing ellipsis: cut off mid-sentence.

The pipeline is stricter on top of this (at least five words, no words about the report, any non-Latin letter),
and the eval adds what needs the cited pages (navigation, glued headings); neither redefines these kinds.
"""

from __future__ import annotations

import re
import unicodedata

from nexa_research.kernel.sentences import CITATION

KINDS = ("markup", "foreign_script", "label", "question", "short", "unterminated")
SHORT_WORDS = 2

MARKUP = re.compile(
    r"\*\*|__|`|(?:^|\s)#{1,6}(?=\s|$)|^\s*(?:[-*+•]|\d+[.)])\s|</?[A-Za-z][^>]*>|&(?:[a-z]+|#\d+);"
    r"|\[(?!\s*\d+(?:\s*[-–,]\s*\d+)*\s*\])[^\]]*\]"
)
FOREIGN_SCRIPT = re.compile(
    "[\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u3000-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef\ufffd]"
)
LABEL = re.compile(
    r"^(?:key\s+points?|key\s+takeaways?|takeaways?|notes?|summary|in\s+summary|in\s+conclusion|sources?|"
    r"references?|citations?|answer|question|title|section(?:\s+\d+)?|paragraph|outline|findings|conclusion|"
    r"introduction|overview)\s*:",
    re.I,
)
# what may close a sentence after its full stop: quotes, brackets, emphasis, spaces
CLOSERS = "\"'”’)]* "


def plain_text(sentence: str) -> str:
    """The sentence without citation markers, spaces collapsed, closing quotes and brackets removed."""
    return " ".join(CITATION.sub(" ", sentence).split()).rstrip(CLOSERS)


def broken_kind(sentence: str, english: bool = True) -> str | None:
    """The kind of broken sentence `sentence` is (one of `KINDS`), or None for a sound one."""
    text = sentence.strip()
    if MARKUP.search(text):
        return "markup"
    if english and FOREIGN_SCRIPT.search(text):
        return "foreign_script"
    plain = plain_text(text)
    if LABEL.match(plain) or plain.endswith(":"):
        return "label"
    if plain.endswith("?"):
        return "question"
    if len(re.findall(r"\w+", plain)) <= SHORT_WORDS:
        return "short"
    if not plain.endswith((".", "!", "?")) or plain.endswith(("...", "…")):
        return "unterminated"
    return None


def non_latin_letters(text: str) -> bool:
    """True when `text` has letters outside the Latin script (Greek, CJK, Cyrillic, IPA...): stricter than
    `FOREIGN_SCRIPT`, for what the pipeline prints from sources (a pronunciation, a name in Greek)."""
    for char in text:
        code = ord(char)
        if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
            continue
        if unicodedata.category(char).startswith("L"):
            return True
    return False
