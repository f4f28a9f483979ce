"""The parts a topic names itself: "The invention and spread of the printing press" asks about the invention and
about the spread, so "Invention of the printing press" and "Spread of the printing press" are sections of it.

The planner falls back to these when the model's plans and the corpus's articles give too few sections: on a
small corpus the 0.5B model answered "Introduction, Printing, Printing Press" twice, the two articles about the
press read as one subject, and the report came out with two sections for a topic that names two parts plainly.

Only lists are split, and only when the split is unambiguous: the angles share one subject ("rise and fall of the
Roman Empire": the last angle has no article of its own), each part names its own ("the discovery of penicillin and
the rise of antibiotics", "Charles Darwin and the theory of evolution", "the invention of the transistor and the
integrated circuit"), or the parts are short names ("Photosynthesis and cellular respiration"). A question ("How
did X change Y and Z?") or a subject that itself holds "and" ("the history of rhythm and blues") is not split: a
wrong part is worse than none.
"""

from __future__ import annotations

import re

_QUESTION = re.compile(
    r"^(?:how|why|what|when|where|who|whom|which|whether|did|does|do|is|are|was|were|can|could|should)\b", re.IGNORECASE
)
_PIECES = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+", re.IGNORECASE)
_PREPOSITION = r"(?:of|in|on|for|behind|during|across|under|within|between|among|at)"
_ANGLE_AND_SUBJECT = re.compile(rf"^(?P<angle>.+?)\s+(?P<prep>{_PREPOSITION})\s+(?P<subject>.+)$", re.IGNORECASE)
_HAS_PREPOSITION = re.compile(rf"\s{_PREPOSITION}\s", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_PRONOUN = re.compile(r"^(?:its|their|his|her|this|these|that|those)\b", re.IGNORECASE)
MAX_ANGLE_WORDS = 3  # "economic effects" is an angle; a longer piece is a clause of its own
MAX_NAME_WORDS = 4


def as_title(text: str) -> str:
    """A noun phrase as a section title: without its leading article, capitalised ("the rise of antibiotics" ->
    "Rise of antibiotics")."""
    text = _ARTICLE.sub("", text.strip())
    return text[:1].upper() + text[1:]


def _pieces(topic: str) -> list[str]:
    """The pieces of a list topic ("A, B and C"), in its order; none for a question (not a list of subjects)."""
    text = topic.strip().rstrip("?.!").strip()
    if not text or _QUESTION.match(text):
        return []
    return [p.strip() for p in _PIECES.split(text) if p and p.strip()]


def topic_parts(topic: str) -> list[str]:
    """The topic's own parts as section titles, in its order; empty when it names one thing or the split is unsure."""
    pieces = _pieces(topic)
    if len(pieces) < 2 or any(_PRONOUN.match(p) for p in pieces):
        return []
    with_own = [bool(_HAS_PREPOSITION.search(f" {p} ")) for p in pieces]
    if all(with_own):
        parts = pieces  # each part names its own subject
    elif with_own[-1] and not any(with_own[:-1]) and _ARTICLE.match(pieces[-1]):
        # "Charles Darwin and the theory of evolution": the article opens a noun phrase of its own
        if any(len(p.split()) > MAX_NAME_WORDS for p in pieces[:-1]):
            return []
        parts = pieces
    elif with_own[-1] and not any(with_own[:-1]):
        # "the rise and fall of the Roman Empire": angles that share the last one's subject
        shared = _ANGLE_AND_SUBJECT.match(pieces[-1])
        if shared is None or any(len(_ARTICLE.sub("", p).split()) > MAX_ANGLE_WORDS for p in pieces[:-1]):
            return []
        tail = f"{shared['prep'].lower()} {shared['subject']}"
        parts = [f"{_ARTICLE.sub('', p)} {tail}" for p in pieces[:-1]] + [pieces[-1]]
    elif not any(with_own) and all(len(p.split()) <= MAX_NAME_WORDS for p in pieces):
        parts = pieces  # a list of names
    elif all(own or (_ARTICLE.match(p) and len(p.split()) <= MAX_NAME_WORDS + 1) for p, own in zip(pieces, with_own)):
        # "the invention of the transistor and the integrated circuit": the article opens a noun phrase of its own
        parts = pieces
    else:
        return []  # "the history of rhythm and blues": the subject holds the "and"
    headings = [as_title(p) for p in parts]
    keys = {h.lower() for h in headings}
    return headings if len(keys) == len(headings) and all(headings) else []


def pronoun_parts(topic: str) -> list[str]:
    """The pieces of a list topic that name their part through a pronoun for the first piece's subject: "their
    modern revival" of "The ancient Olympic Games and their modern revival", "its rainforest" of "The Amazon River
    and its rainforest". `topic_parts` makes no headings of them (what "their" stands for is not always the whole
    first piece: the revival was of the Olympic Games, not of the ancient ones), but a section on such a piece is
    one part of the topic, not the topic again (nodes/checks/plan.py `restated_topic`). Without the pronoun."""
    pieces = _pieces(topic)
    if len(pieces) < 2 or _PRONOUN.match(pieces[0]):
        return []
    return [_PRONOUN.sub("", p).strip() for p in pieces[1:] if _PRONOUN.match(p) and _PRONOUN.sub("", p).strip()]
