"""Which sentences of a report's sections may move up into its summary, introduction or conclusion.

A sentence moves only when it stands alone: it does not lean on the one before it ("The title ...", or a pronoun
other than one for the subject the sentence before it names, which is then written out: "Historically, it has
been a major link on the Northern Silk Road" moves as "Historically, Lanzhou has been ..."), the next does not
lean on it (or only by a pronoun for the subject the moving sentence names, written out the same way: "It was one
of the most fatal pandemics" stays as "The Black Death was one of ..."), it carries a citation, it is not its
section's only sentence citing that source, it is not what ties its passage to the section, and the section keeps
its `min_left` sentences. So every section still reads on its own, and no source leaves a section. What moves
where is decided by nodes/text/key_findings.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nexa_research.kernel.sentences import (
    CITATION,
    leans_on_previous,
    named_subject,
    split_sentences,
    with_subject_named,
)
from nexa_research.kernel.words import stems
from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.providers.relevance import Relevance

MIN_WORDS = 6


@dataclass
class SectionSentence:
    section: int
    paragraph: int
    position: int
    text: str
    last: bool

    @property
    def bare(self) -> str:
        return " ".join(CITATION.sub("", self.text).split())


def _parse(contents: Sequence[str]) -> list[list[list[str]]]:
    """section -> paragraph -> sentences."""
    return [[split_sentences(p) for p in content.split("\n\n") if p.strip()] for content in contents]


class MovableSentences:
    """The sections' sentences, and which of them may still move."""

    def __init__(self, contents: Sequence[str], relevance: Relevance, min_left: int,
                 queries: Sequence[str] = (), titles: Sequence[str] = ()) -> None:
        self.parsed = _parse(contents)
        self.moved: set[tuple[int, int, int]] = set()
        self.min_left = min_left
        self.relevance = relevance
        self.queries = list(queries)  # per section: what it is about, "title (topic)"
        self.title_stems = [stems(t) for t in titles]  # per section: the content stems of its title
        self._closeness: dict[tuple[int, str], float] = {}
        self._stems: dict[str, set[str]] = {}  # per sentence: its content stems (`movable` asks again and again)

    def _about_section(self, section: int, paragraph: int, text: str) -> float:
        """`text`'s closeness to its section; a paragraph's sentences are scored together, once."""
        if (section, text) not in self._closeness:
            sentences = self.parsed[section][paragraph]
            scores = self.relevance.similarity([self.queries[section]], [CITATION.sub("", t).strip() for t in sentences])[0]
            self._closeness.update({(section, t): float(x) for t, x in zip(sentences, scores, strict=True)})
        return self._closeness[section, text]

    def _ties_source_to_section(self, s: SectionSentence) -> bool:
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
        if not others:
            return False
        if self._names_title(s.section, s.text) and not any(self._names_title(s.section, t) for t in others):
            # the query carries the topic, so under a broad topic every sentence of the passage is above the floor
            # ("Harriet Tubman was an American abolitionist" for "American Civil War (... abolition of slavery)"):
            # the one sentence naming the section's title is what ties the passage to it ("During the American
            # Civil War, Harriet Tubman served as an armed scout"; the conclusion took it and left her opening)
            return True
        return (self._about_section(s.section, s.paragraph, s.text) >= floor
                and all(self._about_section(s.section, s.paragraph, t) < floor for t in others))

    def _names_title(self, section: int, text: str) -> bool:
        """Every content word of the section's title (by stem) is in `text`."""
        title = self.title_stems[section] if section < len(self.title_stems) else set()
        if not title:
            return False
        if text not in self._stems:
            self._stems[text] = stems(CITATION.sub("", text))
        return title <= self._stems[text]

    def left(self, section: int) -> int:
        total = sum(len(p) for p in self.parsed[section])
        return total - sum(1 for s, _, _ in self.moved if s == section)

    def _cites_elsewhere(self, s: SectionSentence) -> bool:
        """Every source the sentence cites is cited by another sentence of its section that stays."""
        others = [
            cited_numbers(text)
            for p, sentences in enumerate(self.parsed[s.section])
            for k, text in enumerate(sentences)
            if (p, k) != (s.paragraph, s.position) and (s.section, p, k) not in self.moved
        ]
        cited_by_others = {n for numbers in others for n in numbers}
        return all(n in cited_by_others for n in cited_numbers(s.text))

    def movable(self) -> list[SectionSentence]:
        out = []
        for i, paragraphs in enumerate(self.parsed):
            if self.left(i) <= self.min_left:
                continue
            for p, sentences in enumerate(paragraphs):
                for k, text in enumerate(sentences):
                    if (i, p, k) in self.moved:
                        continue
                    s = SectionSentence(i, p, k, text, k == len(sentences) - 1)
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

    def _renamed(self, s: SectionSentence) -> str | None:
        """The next sentence with the subject `s` names in place of its opening pronoun ("It was one of the most
        fatal pandemics" after "The Black Death was a plague pandemic ..."), when it leans only by that pronoun:
        it then reads on its own once `s` moves up."""
        sentences = self.parsed[s.section][s.paragraph]
        subject = named_subject(s.text) if s.position + 1 < len(sentences) else None
        renamed = with_subject_named(sentences[s.position + 1], subject) if subject else None
        return renamed if renamed and self._distinct(s.text, renamed) else None

    def _named_here(self, s: SectionSentence) -> str | None:
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

    def move(self, s: SectionSentence) -> str:
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
