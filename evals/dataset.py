"""The evaluation topics: data/topics.jsonl, one {"topic", "category", "expect_urls"} per line.

The topics are general subjects the offline Wikipedia corpus covers, spread over history, science, geography,
arts, technology and economics. `expect_urls` names the two to four articles a report on the topic should
hardly do without; every one of them is in the corpus (checked by `missing_from_corpus` and a test), so a run
on the local knowledge base can find them.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nexa_research.errors import ResearchInputError
from nexa_research.evals.thresholds import data_path
from nexa_research.urls import normalize_url


class EvalTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=3)
    category: str = ""
    expect_urls: list[str] = Field(default_factory=list)


def default_topics_path() -> Path:
    return data_path("topics.jsonl")


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


def expected_for(topic: str, topics: list[EvalTopic]) -> EvalTopic | None:
    """The dataset entry for a report's topic (case and spacing ignored), if the topic is in the dataset."""
    key = " ".join(topic.lower().split())
    return next((t for t in topics if " ".join(t.topic.lower().split()) == key), None)


def corpus_urls() -> set[str]:
    """Normalised URLs of every article in the offline Wikipedia corpus."""
    from nexa_research.providers.kb.ingest import wikipedia_data_path, wikipedia_url

    articles = json.loads(wikipedia_data_path().read_text(encoding="utf-8"))
    return {normalize_url(wikipedia_url(str(a.get("title") or key))) for key, a in articles.items()}


def missing_from_corpus(topics: list[EvalTopic]) -> list[tuple[str, str]]:
    """(topic, url) for every expected URL the corpus lacks; empty when the dataset is sound."""
    known = corpus_urls()
    return [(t.topic, url) for t in topics for url in t.expect_urls if normalize_url(url) not in known]
