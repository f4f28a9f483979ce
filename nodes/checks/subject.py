"""The topic's subject as the corpus survey found it: which sources are about the topic, which are neighbours.

Passing the on-topic cut-off is not enough. Below a topic's own articles sit neighbours of the same kind: for "The
history of the printing press" the survey returns Printing press (0.70), Printing and Johannes Gutenberg, then
History of communication, Photocopier and Printmaking (0.46-0.48); for the Amazon River, Congolian rainforests
(0.54) and the Niger River. They share a field with the topic, so they score like the related articles a report
does need (Wall Street crash of 1929 for the Great Depression, 0.49), and a small planner happily turns them into
sections ("Photocopier") whose text is then about something else. What tells them apart is whether a source is
about the subject:

- it is one of the articles scoring close to the best one (within `CLOSE_MARGIN`), or
- it names the subject: the best article's title, a multi-word title of a close article ("Amazon River"), or a
  run of two or more content words of the topic itself ("printing press"), as a phrase, plural allowed; single
  words are too common ("Printing" is in Printmaking, "river" in the Niger River), or
- its title is made only of the topic's own words ("Integrated circuit" for the transistor and the integrated
  circuit, "Antibiotic" for the rise of antibiotics), so it adds no other subject ("Congolian rainforests" does).

Figures from the 24 evaluation topics and the printing press on the offline corpus (MiniLM cosine, topic vs
"title. passage"): every neighbour named above fails all three, and the expected articles pass one.
The subject travels in the run's state as a plain dict (`as_dict`), like the on-topic cut-off.

A section of a user's own document (a `file://` source: providers/documents/) is always about the subject as far
as this test goes. The neighbours it keeps out are an encyclopedia's articles on other things of the same kind;
the sections of one manual are parts of one body of work, titled by its own headings ("VACUUM › Notes",
"Routine Vacuuming › Vacuuming Basics") that seldom repeat a question's words: on "How does PostgreSQL reclaim
the space held by dead row versions?" the test kept out every section but the best one's page. The on-topic
cut-off and the section's own test still judge them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any
from urllib.parse import urlsplit

from nexa_research.kernel.calibration import cutoff
from nexa_research.kernel.title_words import ANGLE_WORDS
from nexa_research.kernel.words import STOPWORDS, name_text, stem
from nexa_research.kernel.words import stems as kernel_stems
from nexa_research.state import Source
from nexa_research.urls import normalize_url

CLOSE_MARGIN = cutoff("subject_close_margin")
_PARENTHETICAL = re.compile(r"\s*\([^)]*\)")
_SITE_SUFFIX = re.compile(r"\s+[-|–]\s+[^-|–]+$")  # "Printing press - Wikipedia"


def _name(title: str) -> str:
    """"Rio Negro (Amazon)" is named "rio negro"; a web page's "Printing press - Encyclopedia" "printing press"."""
    return name_text(_SITE_SUFFIX.sub("", _PARENTHETICAL.sub("", title)))


def topic_phrases(topic: str) -> set[str]:
    """Runs of two or more consecutive content words of the topic: "printing press" and "europe" is not one."""
    runs: list[list[str]] = [[]]
    for word in name_text(topic).split():
        if word in STOPWORDS or word in ANGLE_WORDS:
            runs.append([])
        else:
            runs[-1].append(word)
    return {" ".join(run) for run in runs if len(run) >= 2}


def named_article(title: str, names: Collection[str], topic: str = "") -> bool:
    """True when an article's title is one of `names` (a proper name some text mentions): "Franklin D. Roosevelt"
    for "President Franklin D. Roosevelt", "Brazil" for "Brazil". A one-word title must be the whole name ("Watt"
    is not James Watt); a title with a qualifier ("Amazon (company)", "Plate (dishware)") is one of several things
    its bare name could mean, so it is never taken on a name alone; nor is a name the topic already says."""
    if not names or _PARENTHETICAL.search(title):
        return False
    name = _name(title)
    if not name or re.search(rf"\b{re.escape(name)}\b", name_text(topic)):
        return False
    keys = {name_text(n) for n in names}
    if name in keys:
        return True
    return len(name.split()) >= 2 and any(re.search(rf"\b{re.escape(name)}\b", key) for key in keys)


class TopicSubject:
    """Answers whether a source is about the subject; built from the survey's articles with their topic scores."""

    def __init__(self, close_urls: Sequence[str] = (), names: Sequence[str] = (), topic_stems: Sequence[str] = ()) -> None:
        self.close_urls = set(close_urls)
        self.names = {n for n in names if n}
        self.topic_stems = set(topic_stems)
        alternatives = "|".join(re.escape(n) for n in sorted(self.names, key=len, reverse=True))
        self._named = re.compile(rf"\b(?:{alternatives})(?:s|es)?\b") if alternatives else None

    @classmethod
    def from_survey(cls, topic: str, scored: Sequence[tuple[Source, float]]) -> TopicSubject:
        ranked = sorted(scored, key=lambda pair: -pair[1])
        stems = kernel_stems(topic) - {stem(w) for w in ANGLE_WORDS}
        if not ranked:
            return cls(topic_stems=sorted(stems))
        best = ranked[0][1]
        close = [source for source, score in ranked if score >= best - CLOSE_MARGIN]
        names = {_name(ranked[0][0]["title"])} | {_name(s["title"]) for s in close if len(_name(s["title"]).split()) >= 2}
        return cls(sorted({normalize_url(s["url"]) for s in close}), sorted(names | topic_phrases(topic)), sorted(stems))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TopicSubject | None:
        return None if not data else cls(data.get("close_urls", ()), data.get("names", ()), data.get("topic_stems", ()))

    def as_dict(self) -> dict[str, list[str]]:
        return {"close_urls": sorted(self.close_urls), "names": sorted(self.names), "topic_stems": sorted(self.topic_stems)}

    def names_subject(self, source: Source) -> bool:
        """True when the source's title or text names the subject (a phrase of the topic, the best article's title
        or a close article's multi-word title): Louis Armstrong's "... jazz trumpeter ..." does, Cro-Magnon's
        "... Europe ..." does not."""
        return self._named is not None and bool(self._named.search(f"{_name(source['title'])} {name_text(source['text'])}"))

    def named_in(self, text: str) -> bool:
        """True when `text` (a sentence, say) names the subject, by the same rule as `names_subject`."""
        return self._named is not None and bool(self._named.search(name_text(text)))

    def covers(self, source: Source) -> bool:
        """True when the source is one of the topic's own articles, names the subject, or its title is the topic's
        own words. With no article surveyed, every source is given the benefit of the doubt, and so is a section
        of a user's own document (see the module docstring)."""
        if not self.close_urls or urlsplit(source["url"]).scheme == "file":
            return True
        if normalize_url(source["url"]) in self.close_urls:
            return True
        if self.names_subject(source):
            return True
        title = kernel_stems(_name(source["title"]))
        return bool(title) and title <= self.topic_stems
