"""Plans checked in code: a section must be specific, different from the others, and something the corpus covers.

A small planner likes "Introduction" and "Conclusion" (the collator writes those anyway), proposes two
sections that are the same one reworded, and invents subjects no source discusses ("the Black Death in the
United States"). Each of these has a test here; the planner re-plans with the reasons, and as a last resort
builds sections from the articles the corpus actually has (`fallback_sections`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from nexa_research.kernel.fragments import non_latin_letters
from nexa_research.kernel.title_pairs import duplicate_title_pairs, title_key, title_stems
from nexa_research.kernel.title_words import ANGLE_ADJECTIVES, META_WORDS, names_no_subject, names_report_part
from nexa_research.kernel.words import words
from nexa_research.nodes.checks.topic_parts import as_title, pronoun_parts, topic_parts
from nexa_research.providers.documents.model import HEADING_SEPARATOR
from nexa_research.providers.documents.titles import contextless, signature_name
from nexa_research.providers.relevance import Relevance
from nexa_research.state import Source

MAX_TITLE_WORDS = 12


def generic_title(title: str) -> bool:
    """A title that names a part of a report rather than a subject ("Introduction", "Overview of X", "Summary"),
    or asks instead of naming ("What are the key questions to answer about the Panama Canal?"), or is a whole
    sentence rather than a heading (more than `MAX_TITLE_WORDS` words: "The Panama Canal is an artificial
    82-kilometer waterway in Panama that connects ...")."""
    title_words = words(title)
    if title.strip().endswith("?") or len(title.split()) > MAX_TITLE_WORDS:
        return True
    if not title_words or names_report_part(title):
        return True
    if names_no_subject(title) and any(w in META_WORDS for w in title_words):
        return True
    return vague_title(title)


_OVERVIEW = re.compile(r"^(?:an?\s+)?(?:brief\s+)?overview\s+of\s+(?:the\s+)?(?P<lead>.+)$|^(?P<tail>.+?)\s*[:-]?\s+overview$", re.IGNORECASE)
_WHAT_QUESTION = re.compile(r"^(?:what|which)\s+(?:is|are|was|were)\s+(?:the\s+)?(?P<rest>[^?]+?)\s*\?$", re.IGNORECASE)


# "Some of the key questions about slavery", "Key points on the Meiji Restoration": words about the document, then
# the subject they are about (a 0.5B plan for the American Civil War and the abolition of slavery)
_ABOUT = re.compile(r"^(?P<lead>.+?)\s+(?:about|on|regarding|concerning|surrounding)\s+(?P<subject>.+)$", re.IGNORECASE)
_PART_WORD = re.compile(r"^(?:(?:Section|Part|Chapter)\s*[:-]?\s+)(?P<lead>.+)$|^(?P<tail>.+?)\s*[:-]?\s+(?:Section|Part|Chapter)$")


def as_heading(title: str, topic: str = "") -> str:
    """A small planner's title repaired into a heading where that is mechanical: a "what is/are" question becomes
    what it asks about ("What are the reasons for the failure of X?" -> "Reasons for the failure of X"), and a
    sentence glued on after a colon goes ("Western Roman Empire: The Roman Empire was a state that ..." ->
    "Western Roman Empire"), and "Overview" goes from a title that names its subject ("Batu Khan Overview",
    "Overview of the Mongol Empire": the 0.5B model wrote eight of these in one run, each rejected as generic).
    "Section", "Part" or "Chapter" goes from a title whose other words the topic names ("Antibiotics Section"), and
    a trailing colon from any ("Write-Ahead Logging (WAL):"), and words about the document from before what they
    are about ("Some of the key questions about slavery" -> "Slavery").
    Other questions stay questions, which the checks reject."""
    heading = title.strip()
    overview = _OVERVIEW.match(heading)
    if overview:
        heading = (overview["lead"] or overview["tail"]).strip()
    asked = _WHAT_QUESTION.match(heading)
    if asked:
        rest = asked["rest"].strip()
        heading = rest[:1].upper() + rest[1:]
    head, colon, tail = heading.partition(":")
    if colon and head.strip() and (len(tail.split()) > 6 or tail.rstrip().endswith(".")):
        heading = head.strip()
    heading = heading.rstrip(":;,–- ").strip() or heading  # "Write-Ahead Logging (WAL):", a 0.5B plan's title
    about = _ABOUT.match(heading)
    if about and names_no_subject(about["lead"]) and any(w in META_WORDS for w in words(about["lead"])):
        heading = as_title(about["subject"])
    part = _PART_WORD.match(heading)
    rest = (part["lead"] or part["tail"]).strip() if part else ""
    if rest and title_stems(rest) and title_stems(rest) <= title_stems(topic):
        # "Antibiotics Section" (a 0.5B plan for "The discovery of penicillin and the rise of antibiotics"): the
        # word names the report's part, the rest is the topic's own subject; "Brass Section" in a report on
        # orchestras names no word of the topic and stays
        heading = rest
    return heading


def vague_title(title: str) -> bool:
    """An angle without its subject: "Causes", "Effects and impact"."""
    title_words = words(title)
    return (bool(title_words) and names_no_subject(title) and not names_report_part(title)
            and not any(w in META_WORDS for w in title_words))


def with_subject(section: PlannedSection, topic: str) -> PlannedSection:
    """"Causes" becomes "Causes of the Black Death in fourteenth-century Europe": the model's angle is often right,
    only its subject is missing. Other titles are returned unchanged."""
    title_words = words(section.title)
    if not vague_title(section.title) or names_report_part(section.title) or title_words[-1] in ANGLE_ADJECTIVES:
        return section  # an adjective alone ("Historical") stays vague, and the plan check refuses it
    first, _, rest = topic.strip().partition(" ")
    subject = f"{first.lower()} {rest}" if first.lower() in {"the", "a", "an"} else topic.strip()
    joiner = ": " if first.lower() in {"how", "why", "what", "when", "where", "who", "which", "whether"} else " of "
    return PlannedSection(f"{section.title.strip()}{joiner}{subject}", section.outline, section.questions)


@dataclass
class PlannedSection:
    title: str
    outline: str
    questions: list[str]


def duplicate_pairs(relevance: Relevance | None, titles: Sequence[str], topic: str = "") -> list[tuple[int, int]]:
    """Index pairs of titles that say the same thing (kernel/title_pairs.py: the rule the eval counts by too)."""
    if relevance is None:
        return duplicate_title_pairs(titles, topic)
    return duplicate_title_pairs(titles, topic, relevance.similarity, relevance.thresholds.duplicate_title)


def restated_topic(topic: str, titles: Sequence[str]) -> list[int]:
    """Indexes of titles that are the topic again ("How did X change Y?" for "How X changed Y"): not a part of it.

    Closeness in meaning is not the test: "Penicillin discovery" is close to "The discovery of penicillin and the
    rise of antibiotics" as an embedding and is a fine first section, and "Causes of X" adds an angle. A
    restatement adds no word of its own and leaves out little of the topic (at most a quarter of its words).

    A part the topic names itself ("Spread of the printing press" of "The invention and spread of the printing
    press", `topic_parts`; "Olympic Games: Modern Revival" of "The ancient Olympic Games and their modern
    revival", `pronoun_parts`) is one part of it, however much of the topic's wording it repeats.
    """
    topic_stems = title_stems(topic)
    parts = [title_stems(p) for p in topic_parts(topic)]
    # "Olympic Games: Modern Revival" of "The ancient Olympic Games and their modern revival": all of the pronoun's
    # piece and not all of the rest is that piece, one part of the topic
    by_pronoun = [own for own in (title_stems(p) for p in pronoun_parts(topic)) if own]
    out = []
    for i, title in enumerate(titles):
        stems = title_stems(title)
        if topic_stems and stems and not stems - topic_stems and len(stems) >= 0.75 * len(topic_stems):
            if not any(stems <= part for part in parts) and not any(
                own <= stems and not (topic_stems - own) <= stems for own in by_pronoun
            ):
                out.append(i)
    return out


SupportCheck = Callable[[PlannedSection], Awaitable[bool]]


async def plan_problems(
    sections: Sequence[PlannedSection],
    relevance: Relevance | None,
    min_sections: int,
    max_sections: int,
    support: SupportCheck | None = None,
    topic: str = "",
) -> tuple[list[str], list[int]]:
    """Why the plan is not acceptable (empty when it is) and the indexes of the sections that are fine on their own."""
    problems: list[str] = []
    if not min_sections <= len(sections) <= max_sections:
        problems.append(f"the plan has {len(sections)} sections; it must have between {min_sections} and {max_sections}")
    bad: set[int] = set()
    for i, s in enumerate(sections):
        if generic_title(s.title):
            bad.add(i)
            problems.append(f"section {s.title!r} is generic: name its subject instead (the report has its own introduction and conclusion)")
    for i, s in enumerate(sections):
        # a 0.5B model slips into the script of its training mix ("Penicillin作用"): the report's summary printed it
        if i not in bad and non_latin_letters(s.title) and not non_latin_letters(topic):
            bad.add(i)
            problems.append(f"section {s.title!r} has words in another script: write every title in the topic's language")
    for i in restated_topic(topic, [s.title for s in sections]):
        bad.add(i)
        problems.append(f"section {sections[i].title!r} restates the whole topic: give it one part of the subject")
    for i, j in duplicate_pairs(relevance, [s.title for s in sections], topic):
        bad.add(j)
        problems.append(f"sections {sections[i].title!r} and {sections[j].title!r} cover the same thing")
    if support is not None:
        for i, s in enumerate(sections):
            if i not in bad and not await support(s):
                bad.add(i)
                problems.append(f"no source in the knowledge base covers section {s.title!r}; choose a subject the articles cover")
    return problems, [i for i in range(len(sections)) if i not in bad]


def pooled_sections(
    pool: Sequence[PlannedSection], new: Sequence[PlannedSection], relevance: Relevance | None, topic: str = ""
) -> list[PlannedSection]:
    """`pool` with the sections of `new` that cover something no pooled section covers (`duplicate_pairs`).

    A small planner rarely writes a whole plan without one bad section ("Introduction", the topic restated), but
    its good sections differ from attempt to attempt; pooled, two attempts usually make a plan, where re-asking for
    a perfect one failed three times in four on the 0.5B model and fell back to article titles.
    """
    out = list(pool)
    for section in new:
        titles = [s.title for s in out] + [section.title]
        if not any(j == len(out) for _, j in duplicate_pairs(relevance, titles, topic)):
            out.append(section)
    return out


def section_title(article_title: str) -> str:
    """A section's title from a source's: a section of a user's document is titled by its page and heading path
    ("Glossary › Isolation"), and the section takes the last heading ("Isolation"), with the one above it when the
    last names only a part ("VACUUM: Notes"); an API reference's signature heading gives its name
    ("class asyncio.Task(coro, *, loop=None)" -> "asyncio.Task": `signature_name`)."""
    parts = [signature_name(p.strip()) for p in article_title.split(HEADING_SEPARATOR) if p.strip()]
    if len(parts) < 2:
        return parts[0] if parts else article_title.strip()
    return f"{parts[-2]}: {parts[-1]}" if contextless(parts[-1]) else parts[-1]


def fallback_sections(
    keep: Sequence[PlannedSection],
    articles: Sequence[Source],
    topic: str,
    wanted: int,
    spare: Sequence[PlannedSection] = (),
    relevance: Relevance | None = None,
    parts: Sequence[PlannedSection] = (),
) -> list[PlannedSection]:
    """The good sections pooled from the planner's attempts, topped up with the parts the topic names itself
    (`parts`, from `topic_parts`: what the user asked about comes first), then one section per article (the planner
    passes the survey's articles about the subject), then `spare` sections (rejected for a lesser reason than
    being generic or the whole topic), so a topic the corpus covers with few articles still gets a report rather
    than no plan at all. Nothing is added that an earlier section already covers (`duplicate_pairs`: the eval
    printed "Printing Press Components", "The Printing Press Mechanisms" and then the article "Printing press")."""
    out = list(keep)
    used = {title_key(s.title) for s in out}

    def add(section: PlannedSection) -> None:
        if len(out) < wanted and title_key(section.title) not in used and not generic_title(section.title):
            used.add(title_key(section.title))
            out[:] = pooled_sections(out, [section], relevance, topic)

    for part in parts:
        add(part)
    for article in articles:
        title = section_title(article["title"])
        add(PlannedSection(
            title=title,
            # the outline names only the section's subject: the topic's words in every fallback outline made each
            # section as close to the topic's sentences as the others, so ownership (nodes/text/extractive.py) had
            # no way to tell the sections apart
            outline=f"What the sources say about {title}.",
            questions=[f"What was {title}?", f"How does {title} relate to {topic}?"],
        ))
    for section in spare:
        # a model's section that restates the whole topic is not one part of it (it printed the report's topic as
        # its last section, holding what the first section had missed)
        if not restated_topic(topic, [section.title]):
            add(section)
    return out


def report_title(proposed: str, topic: str, sections: Sequence[str]) -> str:
    """The planner's title when every word of it comes from the topic or the plan, else the topic itself.

    A small model garbles titles ("The Steam Engine Change Industry"); the user's own phrasing never is.
    """
    known = set(words(" ".join([topic, *sections])))
    proposed_words = [w for w in words(proposed) if len(w) > 3]
    if proposed_words and all(w in known for w in proposed_words):
        return proposed.strip()
    topic = topic.strip()
    return topic[:1].upper() + topic[1:]
