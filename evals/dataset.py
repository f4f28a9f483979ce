"""The evaluation topics, one {"topic", "category", "expect_urls", "relevant_urls"} per line, in three sets:

    data/topics.jsonl          the tuning set (24 topics): what the pipeline's developers run and read
    data/topics-quick.jsonl    one tuning topic per field (6), for a quick run
    data/topics-heldout.jsonl  the held-out set: topics the developers do not look at, run to check that a change
                               helps reports in general and not just the topics it was tuned on
    data/documents-postgresql.jsonl  questions on a user's own documents: the PostgreSQL 15 manual (Debian's
                               postgresql-doc-15, 1,169 HTML pages) ingested into a collection of its own; the
                               URLs are page paths in that folder (evals/recall.py: page recall)

The topics are general subjects the offline Wikipedia corpus covers well, spread over history, science,
geography, arts, technology and economics. `expect_urls` names the two to four articles a report on the topic
should hardly do without; `relevant_urls` the 8-15 articles of the corpus a careful researcher would cite,
chosen by reading the corpus's extracts (not by an embedding threshold, which would make the measure agree with
the retriever by construction). Every URL is in the corpus (checked by `missing_from_corpus` and a test), so a
run on the local knowledge base can find them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nexa_research.errors import ResearchInputError
from nexa_research.evals.thresholds import data_path
from nexa_research.urls import normalize_url

logger = logging.getLogger(__name__)

TOPIC_SETS = {"tuning": "topics.jsonl", "quick": "topics-quick.jsonl", "heldout": "topics-heldout.jsonl",
              "documents": "documents-postgresql.jsonl"}


class EvalTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=3)
    category: str = ""
    expect_urls: list[str] = Field(default_factory=list)
    relevant_urls: list[str] = Field(default_factory=list)


def default_topics_path() -> Path:
    return data_path(TOPIC_SETS["tuning"])


def topics_path(name: str) -> Path:
    """The packaged file of a named set: tuning, quick or heldout."""
    try:
        return data_path(TOPIC_SETS[name])
    except KeyError:
        raise ResearchInputError(f"no topic set {name!r}; the sets are: {', '.join(TOPIC_SETS)}") from None


def load_topics(path: Path | None = None) -> list[EvalTopic]:
    path = path or default_topics_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ResearchInputError(f"cannot read the topics file {path}: {exc}") from exc
    topics = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            topics.append(EvalTopic.model_validate_json(line))
        except ValidationError as exc:
            raise ResearchInputError(f"{path}:{number}: not a topic line: {exc}") from exc
    return topics


def _key(topic: str) -> str:
    return " ".join(topic.lower().split())


def expected_for(topic: str, topics: list[EvalTopic]) -> EvalTopic | None:
    """The dataset entry for a report's topic (case and spacing ignored), if the topic is in the dataset."""
    return next((t for t in topics if _key(t.topic) == _key(topic)), None)


def packaged_relevant_urls(topic: str, expect_urls: list[str]) -> list[str] | None:
    """The relevant URLs of a packaged topic with these expected URLs, for callers that pass only `expect_urls`
    (`nexa eval score` does, at this version). The expected URLs must match too, so a topics file of the caller's
    own that reuses a packaged topic's name does not get the packaged list by accident."""
    for name in ("tuning", "heldout", "documents"):
        try:
            case = expected_for(topic, load_topics(topics_path(name)))
        except ResearchInputError as exc:
            logger.info("packaged topic set %s not read: %s", name, exc)
            continue
        same = case is not None and [normalize_url(u) for u in case.expect_urls] == [normalize_url(u) for u in expect_urls]
        if case and same and case.relevant_urls:
            return case.relevant_urls
    return None


def corpus_urls() -> set[str]:
    """Normalised URLs of every article in the offline Wikipedia corpus."""
    from nexa_research.providers.kb.ingest import wikipedia_data_path, wikipedia_url

    articles = json.loads(wikipedia_data_path().read_text(encoding="utf-8"))
    return {normalize_url(wikipedia_url(str(a.get("title") or key))) for key, a in articles.items()}


def missing_from_corpus(topics: list[EvalTopic]) -> list[tuple[str, str]]:
    """(topic, url) for every expected or relevant URL the corpus lacks; empty when the dataset is sound."""
    known = corpus_urls()
    return [(t.topic, url) for t in topics for url in dict.fromkeys([*t.expect_urls, *t.relevant_urls])
            if normalize_url(url) not in known]
