"""The relevance gate: a retrieved passage enters a section only if it is about the topic AND about the section.

Every backend (knowledge base, research memory, Exa, a user's own) ranks by its own notion of a match, and a
small model's query can wander off the topic ("the Black Death in the United States"), so search results are
re-scored here against the report topic and the section (title and outline) with the run's `Relevance` scorer.
Passages below the on-topic threshold for either are dropped; near-copies of a passage already kept are dropped
too, so a section's sources say different things.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from nexa_research.kernel.calibration import cutoff
from nexa_research.kernel.sentences import split_sentences
from nexa_research.nodes.checks.subject import TopicSubject, named_article
from nexa_research.providers.relevance import Relevance, embedded_text
from nexa_research.state import Paragraph, Source


def section_text(paragraph: Paragraph) -> str:
    """What a section is about, as one text to compare passages with."""
    return f"{paragraph['title']}. {paragraph['outline']}".strip()


def section_query(topic: str, paragraph: Paragraph) -> str:
    """A search query from the plan itself (section title plus topic), run beside the model's query."""
    return f"{paragraph['title']} ({topic})"


# A run's on-topic cut-off is raised from the calibrated floor toward the best article the topic survey found:
# to RELATIVE_MARGIN below it, but never above RAISED_CUT_CAP. Read off the survey scores of six topics (MiniLM
# cosine, topic vs article): a topic's own articles score 0.6-0.77; what a shared word drags in sits at 0.37-0.44
# ("Black" and "Cro-Magnon" for the Black Death); related articles a report needs reach down to 0.45-0.5 ("Wall
# Street crash of 1929" 0.48 for the Great Depression and New Deal, "James Watt" 0.50 for the steam engine). The cap
# keeps those; the margin keeps a thinly covered topic (best article 0.59) near the floor.
RELATIVE_MARGIN = cutoff("relative_margin")
RAISED_CUT_CAP = cutoff("raised_cut_cap")
# A search result another section matches better than this one by more than this (cosine) is that section's:
# the margin the collator settles shared passages by (nodes/text/ownership.py).
BALANCE_MARGIN = cutoff("balance_margin")


def topic_cutoff(relevance: Relevance, best_survey_score: float | None, min_relevance: float | None = None) -> float:
    """The on-topic cut-off for this run: the calibrated floor, raised toward the best article of the topic survey
    (see RELATIVE_MARGIN and RAISED_CUT_CAP). A caller's `min_relevance` wins."""
    if min_relevance is not None:
        return min_relevance
    floor = relevance.thresholds.on_topic
    if best_survey_score is None:
        return floor
    return max(floor, min(best_survey_score - RELATIVE_MARGIN, RAISED_CUT_CAP))


def within_topic(score: float, topic_cut: float, floor: float, names_subject: bool) -> bool:
    """Close enough to the topic: at the run's cut-off, or, for a source that names the subject, down to the
    calibrated floor. Between the two sit both shared-word noise (Cro-Magnon, 0.44 for the Black Death) and the
    people and works of the subject (Louis Armstrong 0.40 and Charlie Parker 0.42 for the origins of jazz, William
    Shockley 0.39 for the transistor): those that name the subject are in. The gate and the planner's survey judge
    by this one rule."""
    return score >= topic_cut or (names_subject and score >= floor)


def related_to_topic(relevance: Relevance, topic: str, excerpts: Sequence[Source], cut: float) -> list[bool]:
    """Whether each excerpt found by name comes from a passage not unrelated to the topic as a whole (title and
    all its text at `cut`, the section cut-off): "On the Road" names jazz in one sentence and scores 0.11 against
    the origins of jazz. The gate and the survey's linked articles judge by this one test."""
    if not excerpts:
        return []
    whole = relevance.similarity([topic], [embedded_text(e["title"], e["text"]) for e in excerpts])[0]
    return [bool(score >= cut) for score in whole]


def _repeats_known(relevance: Relevance, text: str, known: Sequence[str]) -> bool:
    """Whether a passage near-copies what the section holds: close to a held passage as a whole (the duplicate
    cut-off) and every sentence of it a near-copy of one of that passage's. Closeness as a whole is not enough:
    two articles on one subject open alike ("Mongol conquests" and "Mongol Empire", 0.81 apart, above the 0.806
    cut-off) while each states what the other does not; what repeats across them is taken out sentence by sentence
    when the report is put together."""
    if not known:
        return False
    close = relevance.similarity([text], list(known))[0]
    near = [k for k, score in zip(known, close, strict=True) if score >= relevance.thresholds.duplicate]
    if not near:
        return False
    mine = split_sentences(text)
    theirs = [s for k in near for s in split_sentences(k)]
    if not mine or not theirs:
        return True
    return bool((relevance.similarity(mine, theirs).max(axis=1) >= relevance.thresholds.duplicate).all())


@dataclass
class GateResult:
    kept: list[Source]
    off_topic: list[Source]
    duplicates: int


def gate_sources(
    relevance: Relevance,
    topic: str,
    paragraph: Paragraph,
    candidates: Sequence[Source],
    *,
    known: Sequence[Source] = (),
    limit: int | None = None,
    min_relevance: float | None = None,
    topic_cut: float | None = None,
    subject: TopicSubject | None = None,
    named: Collection[str] = (),
    others: Sequence[str] = (),
) -> GateResult:
    """On-topic, non-duplicate candidates, best first (by the lower of topic and section similarity), at most `limit`.

    A candidate is on topic in one of two ways. Either it is close to the topic (the run's cut-off) and to the
    section, and about the subject; or it supports the section as the evals judge a section supported: "section
    title (topic)" against the passage at the calibrated `section_support` threshold. The second way is how the
    articles around a subject get in: a long topic embeds its setting as much as its subject, so "Bubonic plague"
    scores 0.24 against "The Black Death in fourteenth-century Europe" (below Cro-Magnon's 0.44), and of the
    articles a careful researcher would cite for the 24 tuning topics only 44% reach the raised topic cut; the
    section ("Transmission of the plague") carries what the topic alone does not. A neighbour of the same kind
    (close to the topic, not about its subject: nodes/checks/subject.py) stays out whatever the section says.

    `named`: the proper names the section's gathered sources mention (nodes/checks/coverage.py). An article one of
    them names ("President Franklin D. Roosevelt" in the New Deal's) is a third way in, when it names the subject in
    turn (Roosevelt's "... combating the Great Depression": a link both ways) and is not unrelated to the topic (the
    section cut-off): a reference corpus gives what it names its own article, and such links tell what belongs to a
    subject where embeddings cannot (Roosevelt scores 0.28 against "The Great Depression and the New Deal"). A link
    one way is not enough: the Amazon River's "a title disputed with the Nile" brought the Nile's length into an
    Amazon report.

    `known`: sources the section already has; a candidate that near-copies one of them is a duplicate
    (`_repeats_known`).
    `others`: what the report's other sections are about (`section_text`). A candidate another section matches
    better (by `BALANCE_MARGIN`) is ranked after the section's own: the branches research apart, and
    ranked by closeness alone every section of the Mongol Empire report spent its places on the same core
    articles (5 sections of 10 sources each, 14 distinct), which the collator then prints in one section only.
    It still comes in when the section has fewer own candidates than places.
    `topic_cut`: the run's on-topic cut-off (`topic_cutoff`), when the survey set one.
    `subject`: when given, a candidate must also be about the topic's subject (nodes/checks/subject.py), so a
    neighbour of the same kind (Photocopier for the printing press) never enters a section; not with a caller's
    own `min_relevance`, which replaces the whole judgement.
    """
    if not candidates:
        return GateResult([], [], 0)
    t = relevance.thresholds
    topic_floor, section_cut = (t.on_topic, t.on_section) if min_relevance is None else (min_relevance, min_relevance)
    topic_cut = topic_floor if topic_cut is None or min_relevance is not None else max(topic_floor, topic_cut)
    by_subject = subject if min_relevance is None else None  # a caller's own cut-off replaces the whole judgement
    # a passage found by the subject's name is judged by the sentences naming it (nodes/text/excerpts.py)
    texts = [embedded_text(c["title"], c.get("focus") or c["text"]) for c in candidates]
    scores = relevance.similarity([topic, section_text(paragraph), section_query(topic, paragraph)], texts)
    combined = np.minimum(scores[0], scores[1])
    # the second way in (a caller's own cut-off replaces the whole judgement, so not with one)
    supports = scores[2] >= t.supports_section if min_relevance is None else np.zeros(len(candidates), dtype=bool)
    # ranked by the lower of topic and section closeness, whichever way a candidate got in: "section title (topic)"
    # carries the topic, so ranking by it put the topic's central article first in every section and pushed the
    # section's own sources past the limit (a Studio run's "Effects on literacy" kept none that spoke of literacy)
    elsewhere = np.zeros(len(candidates), dtype=bool)
    if others:
        elsewhere = relevance.similarity(list(others), texts).max(axis=0) > scores[1] + BALANCE_MARGIN
    order = sorted(range(len(candidates)), key=lambda i: (bool(elsewhere[i]), -float(combined[i])))
    about_subject = [by_subject is None or by_subject.covers(c) for c in candidates]
    naming = [by_subject is not None and by_subject.names_subject(c) for c in candidates]
    close_to_topic = [
        within_topic(float(scores[0, i]), topic_cut, topic_floor, naming[i]) for i in range(len(candidates))
    ]
    linked = [
        min_relevance is None and naming[i] and bool(scores[0, i] >= section_cut)
        and named_article(c["title"], named, topic)
        for i, c in enumerate(candidates)
    ]
    # an excerpt judged by its sentences naming the subject: the document it comes from must not be unrelated to
    # the topic (the section cut-off, as for a link): "On the Road" (a novel with "a backdrop of jazz, poetry, and
    # rebellion") scores 0.11 against the origins of jazz, Roosevelt's article 0.36 against the New Deal
    focused = [i for i, c in enumerate(candidates) if c.get("focus")]
    related = dict.fromkeys(range(len(candidates)), True)
    related.update(zip(focused, related_to_topic(relevance, topic, [candidates[i] for i in focused], section_cut), strict=True))
    passes = [
        related[i] and (
            (bool(close_to_topic[i] and scores[1, i] >= section_cut) and about_subject[i])
            # a source at the calibrated floor that is not about the subject is a neighbour of the same kind (Plague
            # of Justinian for the Black Death): the section does not let it in either. The floor, not the run's
            # raised cut: a neighbour's score moves by a few hundredths with the passage's wording (Justinian 0.48 as
            # "title. text", 0.43 as the "title\ntext" the knowledge base stores), and the raised cut sat between
            or bool((supports[i] or linked[i]) and (about_subject[i] or scores[0, i] < topic_floor))
        )
        for i in range(len(candidates))
    ]
    on_topic = [i for i in order if passes[i]]
    off_topic = [candidates[i] for i in order if not passes[i]]
    kept: list[int] = []
    duplicates = 0
    pool = [s["text"] for s in known]
    for i in on_topic:
        if _repeats_known(relevance, candidates[i]["text"], pool + [candidates[j]["text"] for j in kept]):
            duplicates += 1
            continue
        kept.append(i)
        if limit is not None and len(kept) >= limit:
            break
    result = []
    for i in kept:
        source = dict(candidates[i])
        source["score"] = round(float(combined[i]), 4)
        result.append(Source(**source))  # type: ignore[typeddict-item]
    return GateResult(result, off_topic, duplicates)
