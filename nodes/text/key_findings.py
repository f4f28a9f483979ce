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
A sentence moves only when it stands alone: it does not lean on the one before it ("The title ...", or a pronoun
other than one for the subject the sentence before it names, which is then written out: "Historically, it has
been a major link on the Northern Silk Road" moves as "Historically, Lanzhou has been ..."), the next does not
lean on it (or only by a pronoun for the subject the moving sentence names, written out the same way: "It was one
of the most fatal pandemics" stays as "The Black Death was one of ..."), it carries a citation, it is not its
section's only sentence citing that source, and the section keeps `MIN_LEFT` sentences. So every section still reads on its own, and no source leaves a section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nexa_research.kernel.calibration import cutoff
from nexa_research.kernel.sentences import (
    CITATION,
    leans_on_previous,
    named_subject,
    split_sentences,
    with_subject_named,
)
from nexa_research.nodes.text.citations import cited_numbers
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
MIN_WORDS = 6
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
class _Sentence:
    section: int
    paragraph: int
    position: int
    text: str
    last: bool

    @property
    def bare(self) -> str:
        return " ".join(CITATION.sub("", self.text).split())


@dataclass
class KeyFindings:
    """The lifted parts and the section contents they were moved out of."""

    summary: str = ""
    introduction: str = ""
    conclusion: str = ""
    contents: list[str] = field(default_factory=list)


def _parse(contents: Sequence[str]) -> list[list[list[str]]]:
    """section -> paragraph -> sentences."""
    return [[split_sentences(p) for p in content.split("\n\n") if p.strip()] for content in contents]


class _Sections:
    """The sections' sentences, and which of them may still move."""

    def __init__(self, contents: Sequence[str], relevance: Relevance, min_left: int = MIN_LEFT,
                 queries: Sequence[str] = ()) -> None:
        self.parsed = _parse(contents)
        self.moved: set[tuple[int, int, int]] = set()
        self.min_left = min_left
        self.relevance = relevance
        self.queries = list(queries)  # per section: what it is about, "title (topic)"
        self._closeness: dict[tuple[int, str], float] = {}

    def _about_section(self, section: int, paragraph: int, text: str) -> float:
        """`text`'s closeness to its section; a paragraph's sentences are scored together, once."""
        if (section, text) not in self._closeness:
            sentences = self.parsed[section][paragraph]
            scores = self.relevance.similarity([self.queries[section]], [CITATION.sub("", t).strip() for t in sentences])[0]
            self._closeness.update({(section, t): float(x) for t, x in zip(sentences, scores, strict=True)})
        return self._closeness[section, text]

    def _ties_source_to_section(self, s: _Sentence) -> bool:
        """`s` is what makes its passage belong in the section: it is about the section and the passage's other
        sentences left there are not. Richard Nixon's passage under "Apollo 11" was "Nixon was the 37th president
        ..." and "His presidency saw ... the Apollo 11 Moon landing"; the conclusion took the second and left the
        section a sentence on Nixon alone. Such a sentence stays. (Under "Novgorod Republic", "The Novgorod
        Republic was a medieval state in northwestern Russia" is about its section and may be left alone.) A
        section's leading passage is about what the section is about (see `lift_key_findings`), so it is not
        held: under "New Deal", the New Deal's definition moved to the introduction of a Great Depression report."""
        if s.section >= len(self.queries) or s.paragraph == 0:
            return False
        floor = self.relevance.thresholds.on_section
        others = [t for k, t in enumerate(self.parsed[s.section][s.paragraph])
                  if k != s.position and (s.section, s.paragraph, k) not in self.moved]
        return (bool(others) and self._about_section(s.section, s.paragraph, s.text) >= floor
                and all(self._about_section(s.section, s.paragraph, t) < floor for t in others))

    def left(self, section: int) -> int:
        total = sum(len(p) for p in self.parsed[section])
        return total - sum(1 for s, _, _ in self.moved if s == section)

    def _cites_elsewhere(self, s: _Sentence) -> bool:
        """Every source the sentence cites is cited by another sentence of its section that stays."""
        others = [
            cited_numbers(text)
            for p, sentences in enumerate(self.parsed[s.section])
            for k, text in enumerate(sentences)
            if (p, k) != (s.paragraph, s.position) and (s.section, p, k) not in self.moved
        ]
        cited_by_others = {n for numbers in others for n in numbers}
        return all(n in cited_by_others for n in cited_numbers(s.text))

    def movable(self) -> list[_Sentence]:
        out = []
        for i, paragraphs in enumerate(self.parsed):
            if self.left(i) <= self.min_left:
                continue
            for p, sentences in enumerate(paragraphs):
                for k, text in enumerate(sentences):
                    if (i, p, k) in self.moved:
                        continue
                    s = _Sentence(i, p, k, text, k == len(sentences) - 1)
                    follower = CITATION.sub("", sentences[k + 1]).strip() if k + 1 < len(sentences) else ""
                    if (
                        not cited_numbers(text)
                        or len(s.bare.split()) < MIN_WORDS
                        or (leans_on_previous(s.bare, first=k == 0) and self._named_here(s) is None)
                        or (follower and leans_on_previous(follower) and self._renamed(s) is None)
                        or not self._cites_elsewhere(s)
                        or self._ties_source_to_section(s)
                    ):
                        continue
                    out.append(s)
        return out

    def _renamed(self, s: _Sentence) -> str | None:
        """The next sentence with the subject `s` names in place of its opening pronoun ("It was one of the most
        fatal pandemics" after "The Black Death was a plague pandemic ..."), when it leans only by that pronoun:
        it then reads on its own once `s` moves up."""
        sentences = self.parsed[s.section][s.paragraph]
        subject = named_subject(s.text) if s.position + 1 < len(sentences) else None
        renamed = with_subject_named(sentences[s.position + 1], subject) if subject else None
        return renamed if renamed and self._distinct(s.text, renamed) else None

    def _named_here(self, s: _Sentence) -> str | None:
        """`s` with its opening pronoun written out as the subject the sentence before it names ("Historically,
        it has been a major link on the Northern Silk Road" after "Lanzhou ... is the capital of Gansu"), when it
        leans only by that pronoun: it then reads on its own wherever it moves."""
        if s.position == 0:
            return None
        before = self.parsed[s.section][s.paragraph][s.position - 1]
        subject = named_subject(before)
        renamed = with_subject_named(s.text, subject) if subject else None
        return renamed if renamed and self._distinct(before, renamed) else None

    def _distinct(self, a: str, b: str) -> bool:
        """Written out, a pronoun's sentence can restate the one that named its subject: the Electronics
        article's "It is a subfield of physics ..." became "Electronics is a subfield of physics ...", 0.88 from
        the definition moved up before it (a near-duplicate pair in a transistor report). Such a pair stays put."""
        bare = [" ".join(CITATION.sub("", t).split()) for t in (a, b)]
        return float(self.relevance.similarity([bare[0]], [bare[1]])[0, 0]) < self.relevance.thresholds.duplicate

    def move(self, s: _Sentence) -> str:
        sentences = self.parsed[s.section][s.paragraph]
        text = s.text.strip()
        if leans_on_previous(s.bare, first=s.position == 0):
            text = (self._named_here(s) or text).strip()
        if s.position + 1 < len(sentences) and leans_on_previous(CITATION.sub("", sentences[s.position + 1]).strip()):
            renamed = self._renamed(s)
            if renamed is not None:
                sentences[s.position + 1] = renamed
        self.moved.add((s.section, s.paragraph, s.position))
        return text

    def contents(self) -> list[str]:
        out = []
        for i, paragraphs in enumerate(self.parsed):
            kept = []
            for p, sentences in enumerate(paragraphs):
                text = " ".join(t.strip() for k, t in enumerate(sentences) if (i, p, k) not in self.moved)
                if text:
                    kept.append(text)
            out.append("\n\n".join(kept))
        return out


def _best(relevance: Relevance, query: str, pool: list[_Sentence]) -> list[tuple[float, _Sentence]]:
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
    sections = _Sections(contents, relevance, min_left, [f"{title} ({topic})" for title in titles])
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
