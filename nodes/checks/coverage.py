"""When a section has researched enough, and what it searches next: decided by coverage, in code.

A section whose first search found one article used to stop there as "sufficient": the model said so, and the
key questions looked answered because one article's opening touches all of them. So "sufficient" is earned here:
a section needs `TARGET_SOURCES` on-topic sources AND a gathered sentence answering each key question AND, when
its sources name subjects it has not gathered, one round that followed them. Until then it searches again (up to
the configured cap of rounds), with several queries a round:

- the key questions no gathered sentence answers yet (asked as they are: a knowledge base or a web search takes
  a question);
- leads: the names the gathered text mentions that are close to the section ("the Yalta Conference" in an
  article on the Cold War, "Howard Florey" in one on penicillin) and have not been searched or gathered yet. A
  reference corpus gives the things it names their own article, so following names is how a researcher widens
  a section from one article to the several that cover it;
- the query the reflection model proposed, when it was asked (the node adds it).
Whatever is found still passes the relevance gate (nodes/checks/relevance.py), so a lead off the subject costs
one search and adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from nexa_research.nodes.checks.relevance import section_text
from nexa_research.nodes.text.fragments import passage_sentences
from nexa_research.providers.relevance import Relevance
from nexa_research.state import Paragraph

# Sources a section needs before its research may stop as sufficient: a section drawn from one or two articles
# reads as their summary, not as research (issue 17: 1.25 sources per section in the evals).
TARGET_SOURCES = 4
# Names followed per round, and queries per round in all (model's, questions, names): each is one search call.
# A section whose sources name subjects it has not gathered follows them for at least LEAD_ROUNDS rounds in all:
# the first search finds the section's own article, the names in it find the articles around it (a round with
# no question for a model costs searches only).
LEAD_ROUNDS = 2
MAX_LEADS = 3
# A lead that is another name for an article already gathered ("Age of the Pyramids" for the Old Kingdom) finds
# nothing new: a lead's closeness to the section (that of the sentences naming it) is discounted by this share of
# its closeness to a gathered title.
KNOWN_DISCOUNT = 1.0
MAX_QUERIES = 5
# From this many gathered sources on, a name more than half of them mention is their shared setting, not a lead.
SETTING_SOURCES = 3

_POINTERS = frozenset("Section Sections Chapter Chapters Table Tables Figure Figures Example Examples Appendix Part "
                      "Step Page Pages Note Listing Equation".split())
# A run of capitalised words, joined by the short words names contain ("Treaty of Versailles", "Leonardo da Vinci").
_CAPITALISED = re.compile(r"[A-Z][\w'’.-]*[\w]")
_POSSESSIVE = re.compile(r"['’]s$")
_JOINERS = frozenset("of the de da di del von van der den du la le al for on".split())
_MONTHS = frozenset("January February March April May June July August September October November December".split())
_NOT_NAMES = frozenset(
    "The A An In On At By For From With After Before During Since Until While When Where Which Who Whose It Its "
    "This That These Those He She His Her They Their There Some Many Most Other Such Both Each Several However "
    "Although Because As If Also Later Today According Under Over January February March April May June July "
    "August September October November December".split()
)


def mentioned_names(text: str) -> list[str]:
    """Proper names in `text`, in order of first mention: runs of capitalised words, joiners allowed inside.

    A lone capitalised word opening a sentence is not taken (every sentence opens with one); a run of two or more
    is ("Pablo Picasso was ..."). Function words that open a sentence are cut off the run.
    """
    names: list[str] = []
    for sentence in passage_sentences(text):
        words = sentence.split()
        run: list[str] = []
        start = 0
        for position, raw in enumerate([*words, ""]):
            word = _POSSESSIVE.sub("", raw.strip(",;:()\"'“”."))  # "Europe's population": the name is Europe
            initial = bool(run) and len(word) == 1 and word.isupper() and raw.endswith(".")  # "Harry S. Truman"
            # an aside ("(NYSE)", "(USSR)") and a date ("... World War II on December 8") are not part of a name
            capital = not raw.startswith("(") and word not in _MONTHS and (initial or bool(_CAPITALISED.fullmatch(word)))
            if capital or (run and word.lower() in _JOINERS and word.islower()):
                if not run:
                    start = position
                run.append(word)
                if not raw.endswith((",", ";", ":", ")")):
                    continue
            elif not run:
                continue
            while run and (run[-1].lower() in _JOINERS and run[-1].islower()):
                run.pop()
            while run and run[0] in _NOT_NAMES:
                run.pop(0)
                start += 1
            # a manual's pointer to its own parts ("see Section 29.2", "Table 9.1") names nothing to search for
            pointer = len(run) == 1 and run[0] in _POINTERS and raw[:1].isdigit()
            if run and (len(run) > 1 or start > 0) and not pointer:
                name = " ".join(run)
                if name not in names:
                    names.append(name)
            run = []
    return names


@dataclass
class Coverage:
    """What a section's research has, and what it lacks."""

    questions: list[tuple[str, bool]]
    sources: int
    leads: list[str] = field(default_factory=list)
    rounds: int = 1

    @property
    def unanswered(self) -> list[str]:
        return [q for q, answered in self.questions if not answered]

    @property
    def sufficient(self) -> bool:
        """Enough sources, every question answered, and the names the sources mention followed once."""
        followed = not self.leads or self.rounds >= LEAD_ROUNDS
        return self.sources >= TARGET_SOURCES and not self.unanswered and followed

    def gaps(self) -> list[str]:
        """What is missing, as a reader of the section would say it."""
        out = [f"not answered yet: {q}" for q in self.unanswered]
        if self.sources < TARGET_SOURCES:
            out.append(f"only {self.sources} source(s); at least {TARGET_SOURCES} wanted")
        return out

    def next_queries(self, model_query: str = "") -> list[str]:
        """This round's queries: the model's, then unanswered questions, then leads; at most MAX_QUERIES."""
        out: list[str] = []
        for query in [model_query, *self.unanswered[:2], *self.leads]:
            key = query_key(query)
            if key and key not in {query_key(q) for q in out}:
                out.append(query.strip())
        return out[:MAX_QUERIES]


def query_key(query: str) -> str:
    """Queries that differ only in case, spacing or end punctuation are the same query."""
    return " ".join(query.lower().split()).strip(" ?.!\"'")


def question_coverage(relevance: Relevance, paragraph: Paragraph) -> list[tuple[str, bool]]:
    """Each key question, and whether some gathered sentence goes some way to answering it."""
    sentences = [s for source in paragraph["research"] for s in passage_sentences(source["text"])]
    questions = list(paragraph["questions"])
    if not sentences or not questions:
        return [(q, False) for q in questions]
    best = relevance.similarity(questions, sentences).max(axis=1)
    return [(q, float(score) >= relevance.thresholds.answers) for q, score in zip(questions, best, strict=True)]


def leads(relevance: Relevance, topic: str, paragraph: Paragraph, limit: int = MAX_LEADS) -> list[str]:
    """Names the gathered sources mention that are about this section and not yet searched or gathered."""
    known = {query_key(q) for q in paragraph["queries"]}
    titles = {query_key(s["title"]) for s in paragraph["research"]}
    topic_key = query_key(topic)

    def new(name: str) -> bool:  # not searched, not the topic's words, not a gathered article's name or part of it
        key = query_key(name)
        return len(key) >= 4 and key not in known and key not in topic_key and not any(
            key in t or t in key for t in titles)

    # a bare name embeds as nothing much ("Howard Florey" scores 0.0 against a section on penicillin's discovery):
    # a name is as close to the section as the sentences that mention it
    mentions: dict[str, list[str]] = {}
    holders: dict[str, set[str]] = {}
    for source in paragraph["research"]:
        for sentence in passage_sentences(source["text"]):
            for name in mentioned_names(sentence):
                if new(name):
                    mentions.setdefault(name, []).append(sentence)
                    holders.setdefault(name, set()).add(source["url"])
    # the setting the sources share is not a lead: "United States" in the New Deal, the Great Depression, the Wall
    # Street crash and Roosevelt alike was searched in every round of the quick evals and never added a source
    sources = len({s["url"] for s in paragraph["research"]})
    if sources >= SETTING_SOURCES:
        mentions = {n: m for n, m in mentions.items() if 2 * len(holders[n]) <= sources}
    if not mentions:
        return []
    names = list(mentions)
    sentences = list(dict.fromkeys(x for found in mentions.values() for x in found))
    to_section = dict(zip(sentences, relevance.similarity([f"{section_text(paragraph)} ({topic})"], sentences)[0],
                          strict=True))
    close = [max(float(to_section[x]) for x in mentions[n]) for n in names]
    gathered = [s["title"] for s in paragraph["research"]]
    known_as = relevance.similarity(names, gathered).max(axis=1)
    ranked = sorted(
        (score - KNOWN_DISCOUNT * float(known), name)
        for score, known, name in zip(close, known_as, names, strict=True)
        if score >= relevance.thresholds.on_section
    )
    return [name for _, name in reversed(ranked)][:limit]


def section_coverage(relevance: Relevance, topic: str, paragraph: Paragraph) -> Coverage:
    return Coverage(question_coverage(relevance, paragraph), len(paragraph["research"]),
                    leads(relevance, topic, paragraph), paragraph["iterations"])


def coverage_text(coverage: Sequence[tuple[str, bool]]) -> str:
    return "\n".join(f"- {q} ({'answered' if ok else 'NOT answered yet'})" for q, ok in coverage)
