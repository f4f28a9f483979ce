"""The topic survey: what the corpus holds on the topic, searched before planning.

The planner is shown the on-topic articles about the subject, so it plans what the corpus can support; the same
survey sets the run's on-topic cut-off and the subject (nodes/checks/subject.py) that every section's relevance
gate reads, and finds the articles about something else that name the subject, the last sections a fallback plan
can make. In a folder of the user's documents it also follows the links of the best pages found: a manual's chapter
page lists the pages a plan should be made of.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from nexa_research.config import ResearchConfig
from nexa_research.errors import ProviderError
from nexa_research.nodes.checks.relevance import related_to_topic, topic_cutoff, within_topic
from nexa_research.nodes.checks.subject import TopicSubject
from nexa_research.nodes.search import linked_candidates, naming_candidates, search_with_retries
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.relevance import Relevance, embedded_text
from nexa_research.providers.search.protocol import SearchBackend
from nexa_research.state import Source
from nexa_research.urls import normalize_url

logger = logging.getLogger(__name__)
SURVEY_RESULTS = 15
# The articles found whose links are followed (a user's documents: nodes/search.py `linked_candidates`).
LINKED_FROM = 3


class Survey(NamedTuple):
    """What the topic search found before planning."""

    backend: SearchBackend | None
    articles: list[Source]  # on-topic articles about the subject, one per URL, best first: shown to the planner
    subject: TopicSubject | None  # which sources are about the subject (nodes/checks/subject.py)
    topic_cut: float | None  # the run's on-topic cut-off (`topic_cutoff`)
    # articles about something else that say something on the topic when they name the subject (Edward III's reign
    # "saw ... the ravages of the Black Death"), best first: sections of a fallback plan once `articles` run out
    linked: tuple[Source, ...] = ()


async def survey(providers: Providers, topic: str, cfg: ResearchConfig) -> Survey:
    """Search the topic before planning: the on-topic articles about the subject (neighbours of the same kind, such
    as Photocopier for the printing press, are left out: a small planner makes sections of whatever it is shown)
    and the run's on-topic cut-off (held close to the best article found).

    A failing backend is not fatal here (the research branches report it per section); planning goes on blind.
    """
    relevance = providers.relevance()
    if relevance is None:
        return Survey(None, [], None, None)
    try:
        backend = await providers.asearch_backend(cfg)
        found, _ = await search_with_retries(backend, topic, cfg.model_copy(update={"search_results": SURVEY_RESULTS}))
    except ProviderError as exc:
        logger.warning("planner: the topic survey failed (%s); planning without it", exc)
        return Survey(None, [], None, None)
    scores = [float(x) for x in relevance.similarity([topic], [embedded_text(s["title"], s["text"]) for s in found])[0]] if found else []
    best = max(scores) if scores else None
    threshold = topic_cutoff(relevance, best, cfg.min_relevance)
    # a caller's own cut-off (`min_relevance`) replaces the whole judgement, the subject's included
    subject = TopicSubject.from_survey(topic, list(zip(found, scores, strict=True))) if cfg.min_relevance is None else None
    by_url: dict[str, Source] = {}
    for source, score in sorted(zip(found, scores, strict=True), key=lambda pair: -pair[1]):
        naming = subject is not None and subject.names_subject(source)
        if within_topic(score, threshold, relevance.thresholds.on_topic, naming) and (
            subject is None or subject.covers(source)
        ):
            by_url.setdefault(normalize_url(source["url"]), source)
    pages = await _linked_pages(backend, list(by_url.values())[:LINKED_FROM], topic, relevance, threshold, subject)
    for page in pages:
        by_url.setdefault(normalize_url(page["url"]), page)
    linked = await _linked_articles(backend, subject, topic, relevance, threshold, set(by_url)) if subject else []
    return Survey(backend, list(by_url.values()), subject, threshold, tuple(linked))


async def _linked_pages(
    backend: SearchBackend, found: list[Source], topic: str, relevance: Relevance, topic_cut: float,
    subject: TopicSubject | None,
) -> list[Source]:
    """The pages the best articles found link to (a manual's chapter page lists its pages: Publication and
    Subscription under Logical Replication), best first, kept down to the calibrated floor as an article naming
    the subject is (`within_topic`): the author's link from the topic's own chapter says what belongs to it where
    the embedding cannot. The chapter "Reliability and the Write-Ahead Log" links to "WAL Internals" (0.39
    against the question the chapter answers) and "Logical Replication" to "Publication" (0.40), both under the
    raised cut (0.45) and both pages a careful reader cites; held to the raised cut, no plan was ever made of
    them. Pages below the floor stay out (Data Checksums, 0.32)."""
    try:
        pages = await linked_candidates(backend, found)
    except ProviderError as exc:
        logger.warning("planner: following the links of the articles found failed (%s)", exc)
        return []
    if not pages:
        return []
    scores = relevance.similarity([topic], [embedded_text(p["title"], p["text"]) for p in pages])[0]
    ranked = sorted(zip(pages, scores, strict=True), key=lambda pair: -float(pair[1]))
    return [p for p, score in ranked
            if within_topic(float(score), topic_cut, relevance.thresholds.on_topic, names_subject=True)
            and (subject is None or subject.covers(p))]


async def _linked_articles(
    backend: SearchBackend, subject: TopicSubject, topic: str, relevance: Relevance, topic_cut: float, known: set[str]
) -> list[Source]:
    """The documents naming the subject whose naming sentences are on the topic, from a passage not unrelated to
    the topic as a whole (nodes/search.py `naming_candidates`; judged as the relevance gate judges them,
    `related_to_topic`), best first, one per URL."""
    try:
        excerpts = await naming_candidates(backend, subject)
    except ProviderError as exc:
        logger.warning("planner: looking up the documents naming the subject failed (%s)", exc)
        return []
    if not excerpts:
        return []
    scores = relevance.similarity([topic], [embedded_text(e["title"], e.get("focus") or e["text"]) for e in excerpts])[0]
    related = related_to_topic(relevance, topic, excerpts, relevance.thresholds.on_section)
    out: dict[str, Source] = {}
    for excerpt, score, whole in sorted(zip(excerpts, scores, related, strict=True), key=lambda row: -float(row[1])):
        url = normalize_url(excerpt["url"])
        if url not in known and whole and within_topic(float(score), topic_cut, relevance.thresholds.on_topic, True):
            out.setdefault(url, excerpt)
    return list(out.values())
