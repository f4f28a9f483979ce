"""Titles as a reader names things: without the numbering a manual puts in front of its headings ("25.1.2.",
"Chapter 13.", "Appendix F.") and without the site name every page repeats ("— Python 3.11.2 documentation").

A numbered title made a report's section title ("25.1. Routine Vacuuming") and a shared suffix weighs every page's
title toward the same words, so the relevance gate saw every page as about "Python documentation".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from nexa_research.kernel.words import content_words

# "25.1.2. ", "13.1 ", "13. ", "F.3.1. ", "Chapter 13. ", "Part III. ", "Appendix F. ", "Section 4: ", "§ 2.1 ";
# not a bare number ("1984", "2001 A Space Odyssey") nor an initial ("J. R. R. Tolkien")
_NUMBERING = re.compile(
    r"^\s*(?:(?:chapter|part|appendix|section|lesson|unit)\s+(?:[0-9]+[.:]?|[ivxlcdm]+[.:]|[a-z][.:])\s+"
    r"|§\s*[0-9.]+\s+|(?:[0-9]+|[A-Z])(?:\.[0-9]+)+\.?\s+|[0-9]+\.\s+)",
    re.IGNORECASE,
)
# the separators a site puts between a page's own title and the site's name
_SUFFIX = re.compile(r"\s+[—–|-]\s+([^—–|]+)$")
SHARED_SUFFIX_SHARE = 0.5  # a suffix on at least half the pages (and on at least MIN_PAGES) is the site's name
MIN_PAGES = 3


def without_numbering(title: str) -> str:
    """The title without a leading section number or "Chapter N." label; a title that is only a number stays."""
    text = " ".join(title.split())
    match = _NUMBERING.match(text)
    if match is None:
        return text
    rest = text[match.end():].strip()
    return rest or text


def shared_suffix(titles: Sequence[str]) -> str | None:
    """The " — Site name" ending that most titles of one folder share, if any."""
    endings = Counter(m.group(0) for t in titles if (m := _SUFFIX.search(t)))
    if not endings:
        return None
    suffix, count = endings.most_common(1)[0]
    return suffix if count >= MIN_PAGES and count >= SHARED_SUFFIX_SHARE * len(titles) else None


# Words a manual's section titles use for a part of something named above them ("67.1. Introduction" of the B-Tree
# chapter, "Implementation", "Examples"): such a title alone names nothing a reader or the relevance gate can place.
CONTEXTLESS_WORDS = frozenset(
    "introduction intro overview examples example implementation limitations limits tips notes note summary "
    "reference usage details caveats extensibility configuration functions operators concepts basics installation "
    "interface interfaces internals features requirements restrictions architecture monitoring security options "
    "parameters description syntax compatibility behavior behaviour background general miscellaneous "
    "conclusion".split()
)


def contextless(title: str) -> bool:
    """A title made only of words for a part of something ("Introduction", "Examples and Tips")."""
    found = content_words(title)
    return bool(found) and all(w in CONTEXTLESS_WORDS for w in found)


def placed_title(title: str, parent: str | None) -> str:
    """A contextless title under its parent's ("B-Tree Indexes › Introduction"); any other title as it is."""
    if parent and contextless(title) and not contextless(parent):
        return f"{parent} › {title}"
    return title


def clean_title(title: str, suffix: str | None = None) -> str:
    """The title without the folder's shared suffix and without numbering."""
    text = " ".join(title.split())
    if suffix and text.endswith(suffix) and len(text) > len(suffix):
        text = text[: -len(suffix)].rstrip()
    return without_numbering(text)


# An API reference's heading is a signature: "class asyncio.Task(coro, *, loop=None, name=None)", "uncancel()".
# Not a name with a parenthesis after a space ("min_wal_size (integer)", "Recovery (PITR)").
_SIGNATURE = re.compile(
    r"^(?P<kind>(?:(?:class|exception|coroutine|async|awaitable|abstractmethod|classmethod|staticmethod)\s+)*)"
    r"(?P<name>[A-Za-z_][\w.]*)\(.*\)\s*$"
)


def signature_name(title: str) -> str:
    """What a signature heading names, as a section title: "class asyncio.Task(coro, *, ...)" -> "asyncio.Task",
    "asyncio.run_coroutine_threadsafe(coro, loop)" -> "asyncio.run_coroutine_threadsafe()"; any other title as it is.
    A report section titled by a whole signature reads as code, and its argument list says nothing of the subject."""
    label, colon, rest = title.strip().rpartition(": ")  # a model's "Introspection: asyncio.all_tasks(loop=None)"
    match = _SIGNATURE.match(rest)
    if match is None:
        return title
    kinds = match.group("kind").split()
    name = match.group("name") if {"class", "exception"} & set(kinds) else f"{match.group('name')}()"
    return f"{label}{colon}{name}"
