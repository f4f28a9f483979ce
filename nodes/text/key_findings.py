"""Summary, introduction and conclusion that state what was found, written in code from the sections' sentences.

A small model's summary sentences rarely survive the support check, and the fixed text that replaced them told a
reader nothing ("Each of the 3 sections below answers its own questions ..."). What a reader needs up front is
the finding itself: what the subject is, and the central statement of each section, cited. Those sentences are
in the sections already, so they are *moved*, not copied (a copy is a repetition a reader notices):

- the introduction takes the sentence that defines the subject: of the sentences opening a source's passage,
  the one closest to the topic (then a second one from another section when it is nearly as close);
- the summary takes, for each section, the sentence of its leading source (its first paragraph) closest to the
  section's title and the topic; when no leading source has one to spare, the sentences closest to the topic
  anywhere, one per section (a one-section report's summary said "This report examines ...");
- the conclusion takes the sentences closest to the topic among those that close a passage.
A sentence moves only when it can (nodes/text/movable_sentences.py): it stands alone, and its section still reads
on its own after it leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nexa_research.kernel.calibration import cutoff
from nexa_research.nodes.text.movable_sentences import MovableSentences, SectionSentence
from nexa_research.providers.relevance import Relevance

# Sentences a section keeps when it gives one up. A passage of three sentences may give one: at 3, a report whose
# five sections each printed one three-sentence passage ("Why the Protestant Reformation began ...") had nothing
# to move, and its summary, introduction and conclusion fell back to sentences about the report.
MIN_LEFT = 2
# When no section keeps `MIN_LEFT` after giving a sentence and nothing unprinted is left, a section of two sentences
# gives one: the Black Death report of the ninth session had four sections of two sentences each, and its summary
# and conclusion were sentences about the report ("This report examines ... in 4 sections"). The finding is moved,
# not lost; the section keeps a sentence citing each of its sources.
LAST_RESORT_MIN_LEFT = 1
INTRODUCTION_SENTENCES = 2
CONCLUSION_SENTENCES = 2
FALLBACK_SUMMARY_SENTENCES = 2
# "The title came into use ...", "The state dedicated ...": a definite description of a common noun names what an
# earlier sentence introduced (kernel `leans_on_previous`). Printed in order it reads; moved up, or left behind when its
# antecedent moves, it points at nothing (an Egyptian report's introduction took "The Pharaoh was the monarch of
# ancient Egypt" and left "The title came into use ..." opening its paragraph).
# A second introduction sentence must be nearly as close to the topic as the first (cosine, embedding scale).
SECOND_INTRODUCTION_GAP = cutoff("second_introduction_gap")


@dataclass
class KeyFindings:
    """The lifted parts and the section contents they were moved out of."""

    summary: str = ""
    introduction: str = ""
    conclusion: str = ""
    contents: list[str] = field(default_factory=list)


def _best(relevance: Relevance, query: str, pool: list[SectionSentence]) -> list[tuple[float, SectionSentence]]:
    if not pool:
        return []
    scores = relevance.similarity([query], [s.bare for s in pool])[0]
    return sorted(zip((float(x) for x in scores), pool, strict=True), key=lambda pair: -pair[0])


def lift_key_findings(
    relevance: Relevance,
    topic: str,
    titles: Sequence[str],
    contents: Sequence[str],
    *,
    summary: bool = True,
    conclusion: bool = True,
    introduction_too: bool = True,
    min_left: int = MIN_LEFT,
    most: int | None = None,
) -> KeyFindings:
    """Introduction, summary and conclusion moved out of the section `contents` (global citation numbers), and
    the contents left. `summary` / `conclusion` / `introduction_too` False: that part is written already, so
    none is lifted for it. `min_left`: the sentences a section keeps (see `LAST_RESORT_MIN_LEFT`); `most`: the
    sentences any one part takes."""
    sections = MovableSentences(contents, relevance, min_left, [f"{title} ({topic})" for title in titles], titles)
    floor = relevance.thresholds.on_section
    cap = float("inf") if most is None else most
    introduction: list[str] = []
    openings = [s for s in sections.movable() if s.position == 0] if introduction_too else []
    openings = [s for s in openings if s.paragraph == 0] or openings  # a section's leading source first
    ranked = _best(relevance, topic, openings)
    if ranked and ranked[0][0] >= floor:
        top, first = ranked[0]
        introduction.append(sections.move(first))
        for score, s in ranked[1:]:
            if len(introduction) >= min(INTRODUCTION_SENTENCES, cap) or score < top - SECOND_INTRODUCTION_GAP:
                break
            if s.section != first.section and s in sections.movable():
                introduction.append(sections.move(s))
    central: list[str] = []
    used_sections: list[int] = []
    for i, title in enumerate(titles if summary else ()):
        # the section's central sentence: from its leading source (what it is most about), or none; a Mesoamerican
        # pyramid's sentence closer to the topic's words was not what "Ancient Egyptian architecture" found
        pool = [s for s in sections.movable() if s.section == i and s.paragraph == 0]
        ranked = _best(relevance, f"{title} ({topic})", pool)
        if ranked and ranked[0][0] >= floor and len(central) < cap:
            central.append(sections.move(ranked[0][1]))
    if summary and not central:
        # no leading passage had a sentence to spare (each is a chain: "A printing press is ...", "It marked ...",
        # "The invention ..."): the sentences closest to the topic anywhere in the sections, one per section, so
        # the summary states findings instead of describing the report
        for score, s in _best(relevance, topic, sections.movable()):
            if len(central) >= min(FALLBACK_SUMMARY_SENTENCES, cap) or score < floor:
                break
            if s in sections.movable() and all(s.section != c for c in used_sections):
                central.append(sections.move(s))
                used_sections.append(s.section)
    closing: list[str] = []
    if conclusion:
        used: set[int] = set()
        for score, s in _best(relevance, topic, [s for s in sections.movable() if s.last]):
            if len(closing) >= min(CONCLUSION_SENTENCES, cap) or score < floor:
                break
            if s.section not in used and s in sections.movable():
                closing.append(sections.move(s))
                used.add(s.section)
    return KeyFindings(" ".join(central), " ".join(introduction), " ".join(closing), sections.contents())


def lift_last_resort(
    relevance: Relevance, topic: str, titles: Sequence[str], contents: Sequence[str], *, summary: str,
    introduction: str, conclusion: str,
) -> KeyFindings:
    """The parts still empty, filled from sections of two sentences (`LAST_RESORT_MIN_LEFT`), the summary first,
    then the conclusion, then the introduction, a sentence each: with few to spare, each part states a finding
    rather than one part taking them all."""
    out = KeyFindings(summary, introduction, conclusion, list(contents))
    for part in ("summary", "conclusion", "introduction"):
        if getattr(out, part):
            continue
        lifted = lift_key_findings(relevance, topic, titles, out.contents, summary=part == "summary",
                                   conclusion=part == "conclusion", introduction_too=part == "introduction",
                                   min_left=LAST_RESORT_MIN_LEFT, most=1)
        setattr(out, part, getattr(lifted, part))
        out.contents = lifted.contents
    return out
