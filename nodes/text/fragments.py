"""Sentences fit to print: what is removed from source passages and model prose before either reaches a report.

Readers stumble on the same debris every time: a pronunciation or a name in another script in the middle of an
English sentence, markdown markers, a dangling "This", a question copied from the plan, a bold label. Source
passages are cut into clean sentences here (the synthesizer quotes them), and model prose is filtered with the
same rules, so one definition of "a fragment" serves the whole pipeline.
"""

from __future__ import annotations

import re

from nexa_research.kernel.fragments import broken_kind, non_latin_letters
from nexa_research.kernel.sentences import CITATION, split_sentences
from nexa_research.kernel.words import STOPWORDS

MIN_WORDS = 5
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)")
_PRONUNCIATION = re.compile(r"[ˈˌ/\[\]]|pronunciation|listen|lit\.|romani[sz]ed", re.IGNORECASE)
# Two sentences with no space between them ("... great apes.The family ..."): the capitalised word after the stop
# must be one that opens sentences (a kernel stopword) and not the start of a call or a label. A capitalised name
# after a stop is a dotted name in a manual ("concurrent.futures.Future", "asyncio.Event", 3,266 of them in the
# 21,788 chunks of Python's documentation, against 9 glued pairs in the 10,893 of the Wikipedia corpus): cut
# there, "Return a concurrent.futures.Future to wait for the result ..." printed as "Future to wait for the
# result ...".
_GLUED = re.compile(r"(?<=[a-z]{2}[.!?])(?=([A-Z][a-z]+)\b(?![(:]))")
_SPACES = re.compile(r"\s+")
# a manual's sentence may open on a name in lower case: "vacuum_defer_cleanup_age (integer): Specifies ...",
# "pg_dump is a utility ...", "asyncio.run() runs ..."; a chunk cut mid-sentence opens on a plain word
_IDENTIFIER = re.compile(r"[a-z][a-z0-9]+(?:[_.][a-z0-9_]{2,})+(?:\(\))?\b|[a-z]\w*\(\)")
_EMPHASIS = re.compile(r"\*\*|__|`|^\s{0,3}#{1,6}\s*", re.MULTILINE)
# prose about the report instead of the subject: "In your own words, ...", "This section covers ..."
# and a document's words about itself: "Accordingly, we first discuss the mechanics of archiving WAL files", "This
# chapter describes ..." (a manual's, lifted into a PostgreSQL report's conclusion), "(What kind of query can use
# what kind of index is explained in the previous sections.)" (its pointer to its own parts, in a conclusion)
_META = re.compile(
    r"\b(?:in your own words|this (?:section|information|text|passage)|the (?:section|sources?|text|passage)s? "
    r"(?:covers?|says?|shows?|provides?|discuss(?:es)?)|as (?:an ai|a language model)"
    r"|we (?:will |shall |now |first |then |next |also )?(?:discuss|describe|explain|present|consider|cover|examine)"
    r"|this (?:chapter|manual|document|appendix|page|tutorial|guide) (?:describes|explains|discusses|covers|shows|presents)"
    r"|(?:previous|preceding|following|next) (?:sections?|chapters?|paragraphs?|pages?|examples?))\b",
    re.IGNORECASE,
)
# a manual's pointer to another part of itself, which says nothing on its own: "See Chapter 13 for more information
# about transaction isolation.", "For more information, see ANALYZE.", "Refer to Section 20.4."
_CROSS_REFERENCE = re.compile(
    r"^(?:see|refer to|for (?:more|further|additional) (?:information|details)\b[^,.]{0,60},? see)\s"
    # "A detailed description can be found in most (if not all) books about transaction processing."
    r"|^(?:an? |the )?(?:(?:more |full |complete |detailed |further )+(?:description|discussion|explanation|"
    r"treatment|list|overview)s? (?:of [^.]{0,60})?(?:can be|is|are)|(?:description|discussion|explanation|treatment|"
    r"list|overview)s? (?:of [^.]{0,60})?can be) (?:found|given|available) in\b",
    re.I,
)
# a table row as the ingest reads one ("Operation: overlap; Strategy Number: 1."): data, not a sentence to print
_TABLE_ROW = re.compile(r"^(?:[A-Z0-9][^:;.]{0,39}: [^;]{1,120}; )+[A-Z0-9][^:;.]{0,39}: [^;]{1,120}$")
_DANGLING = re.compile(r"(?:\b(?:and|or|but|of|the|a|an|to|in|with|for|by|as|that|which)|[,;:–-])\s*$", re.IGNORECASE)


def _drop_noise_parentheticals(text: str) -> str:
    """Parentheses holding a pronunciation, another script or nothing at all go; "(1346-1353)" stays."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(0).strip()[1:-1].strip()
        if not inner or non_latin_letters(inner) or _PRONUNCIATION.search(inner):
            return ""
        return match.group(0)

    return _PARENTHETICAL.sub(replace, text)


def unglued(text: str) -> str:
    """`text` with a space put back between two sentences written without one (see `_GLUED`)."""
    return _GLUED.sub(lambda m: " " if m.group(1).lower() in STOPWORDS else "", text)


def tidy(sentence: str) -> str:
    """One sentence with noise parentheses removed, spaces collapsed and no space before punctuation."""
    text = _SPACES.sub(" ", _drop_noise_parentheticals(sentence)).strip()
    return re.sub(r"\s+([,.;:!?])", r"\1", text)


def fragment_reason(sentence: str, min_words: int = MIN_WORDS) -> str | None:
    """Why `sentence` is not fit to print, or None. Citations are ignored when judging."""
    bare = CITATION.sub("", sentence).strip()
    if not bare:
        return "empty"
    kind = broken_kind(bare)  # what the eval counts as broken, by the kernel's one definition
    if kind is not None:
        return kind
    if non_latin_letters(bare):
        return "other letters"
    if _META.search(bare):
        return "about the report, not the subject"
    if _CROSS_REFERENCE.match(bare):
        return "a pointer to another part of the document"
    if _TABLE_ROW.match(bare.rstrip(".")):
        return "a table row"
    words = bare.split()
    if len(words) < min_words:
        return "too short"
    if _DANGLING.search(bare.rstrip(".!\"'”)")):
        return "unfinished"
    if not (bare[0].isupper() or bare[0].isdigit() or bare[0] in "\"“'(" or _IDENTIFIER.match(bare)):
        return "starts mid-sentence"
    return None


STUTTER_WORDS = 4


def stutters(sentence: str) -> bool:
    """True when a run of `STUTTER_WORDS` words comes twice in the sentence: a small model's conclusion wrote
    "... up to 50 million people or 50% of Europe's 14th-century population, or 50% of Europe's 14th-century
    population". Model prose only: 1% of the corpus's own sentences repeat a run legitimately ("... for Best Novel
    and won the inaugural Nebula Award for Best Novel")."""
    words = re.findall(r"[\w'’%-]+", sentence.lower())
    runs = [tuple(words[i : i + STUTTER_WORDS]) for i in range(len(words) - STUTTER_WORDS + 1)]
    first: dict[tuple[str, ...], int] = {}
    for i, run in enumerate(runs):
        if run in first and i - first[run] >= STUTTER_WORDS:
            return True
        first.setdefault(run, i)
    return False


def passage_sentences(text: str) -> list[str]:
    """A source passage as clean, complete sentences in their original order; debris and fragments dropped.

    The last piece of a chunk is often cut mid-sentence by the splitter: it fails the terminal-punctuation test.
    A blank line ends a sentence: a user's document keeps its list items, table rows and code blocks as paragraphs
    of their own (providers/documents/), and an item without a full stop must not run into the next one.
    """
    out = []
    for paragraph in re.split(r"\n\s*\n", text):
        glued = unglued(paragraph.replace("\n", " "))
        out += [s for s in (tidy(raw) for raw in split_sentences(glued)) if fragment_reason(s) is None]
    return out


def printable(text: str, min_words: int = MIN_WORDS) -> tuple[str, int]:
    """Model prose with every fragment sentence, and every sentence that repeats itself, removed (paragraph breaks kept); returns text and count removed."""
    removed = 0
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        kept = []
        # emphasis markers go first: "declined. **Key" must split into a sentence and a fragment, not hide both
        for sentence in split_sentences(unglued(_EMPHASIS.sub("", paragraph).replace("\n", " "))):
            cleaned = tidy(sentence)
            if fragment_reason(cleaned, min_words) is None and not stutters(cleaned):
                kept.append(cleaned)
            else:
                removed += 1
        if kept:
            paragraphs.append(" ".join(kept))
    return "\n\n".join(paragraphs), removed
