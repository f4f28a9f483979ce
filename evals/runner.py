"""Run the pipeline on the dataset and evaluate what it wrote: the loop behind `nexa eval run`.

Each topic goes through the public entry point, `aresearch(topic, use_cache=False, ...)`, so a run measures the
pipeline as users get it and never a cached report. Each topic runs in its own event loop and the loop-bound
services are closed after it, as the CLI does. A topic whose run fails with a library error is recorded with
its error and the run goes on; it fails the run's targets (see aggregate.py). Reports are saved as JSON beside
the results, so they can be re-scored later with `nexa eval score`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexa_research.errors import NexaError, ResearchInputError
from nexa_research.evals.dataset import EvalTopic
from nexa_research.evals.history import FailedTopic
from nexa_research.evals.scorer import Judge, ReportEval, score_report
from nexa_research.evals.similarity import Similarity
from nexa_research.evals.thresholds import Thresholds
from nexa_research.providers.kb.store import KnowledgeBase
from nexa_research.report import Report

logger = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    evals: list[ReportEval] = field(default_factory=list)
    failures: list[FailedTopic] = field(default_factory=list)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "report"


def sections_asked(overrides: dict[str, Any]) -> int | None:
    """The section count the run asked every report for (`--sections N` sets min = max = N), if it fixed one."""
    low, high = overrides.get("min_sections"), overrides.get("max_sections")
    return high if isinstance(high, int) and low == high else None


async def _research(topic: str, overrides: dict[str, Any]) -> Report:
    from nexa_research import aresearch

    return await aresearch(topic, use_cache=False, **overrides)


def ensure_knowledge_base() -> None:
    """Seed an empty local knowledge base with the offline Wikipedia corpus, so the dataset's articles exist."""
    from nexa_research.providers.kb.migration import seed_if_empty
    from nexa_research.providers.kb.store import open_knowledge_base
    from nexa_research.providers.settings import ProviderSettings

    settings = ProviderSettings.load()
    with open_knowledge_base(settings) as kb:
        done = seed_if_empty(kb, settings, progress=True)
        if done:
            logger.warning("knowledge base was empty: %s", done)


def missing_pages(kb: KnowledgeBase, pages: Sequence[str]) -> list[str]:
    """The pages (paths relative to a document folder) of which the knowledge base holds no section."""
    from nexa_research.evals.recall import cites
    from nexa_research.providers.kb.file_ingest import chunk_file

    files = {file for batch in kb.payloads() for p in batch if (file := chunk_file(p)) is not None}
    return [page for page in pages if not any(cites(page, f) for f in files)]


def check_pages(topics: Sequence[EvalTopic], collection: str | None) -> None:
    """A documents set lists pages of a folder (relative paths): the collection must hold every one of them, or
    the run would measure an ingest that left pages out. Raises ResearchInputError naming the missing pages."""
    from nexa_research.evals.recall import is_page
    from nexa_research.providers.kb.store import open_knowledge_base
    from nexa_research.providers.settings import ProviderSettings

    pages = sorted({u for t in topics for u in (*t.expect_urls, *t.relevant_urls) if is_page(u)})
    if not pages:
        return
    with open_knowledge_base(ProviderSettings.load(), collection=collection) as kb:
        missing, name = missing_pages(kb, pages), kb.collection
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise ResearchInputError(
            f"collection {name!r} does not hold {len(missing)} of the {len(pages)} pages the topics list ({shown}); "
            f"ingest their folder first: nexa ingest FOLDER --collection {name}"
        )


def run_topics(
    topics: Sequence[EvalTopic],
    reports_dir: Path,
    overrides: dict[str, Any],
    thresholds: Thresholds,
    judge: Judge | None = None,
    on_done: Callable[[EvalTopic, ReportEval | FailedTopic], None] | None = None,
) -> RunOutcome:
    """Research, save and score every topic, in order; `on_done` hears about each as it finishes."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    similarity = Similarity()
    outcome = RunOutcome()
    for number, case in enumerate(topics, start=1):
        started = time.perf_counter()
        try:
            report = asyncio.run(_research(case.topic, overrides))
        except NexaError as exc:
            seconds = round(time.perf_counter() - started, 1)
            logger.error("eval: research failed for %r after %.0f s: %s", case.topic, seconds, exc)
            failure = FailedTopic(topic=case.topic, category=case.category, error=f"{type(exc).__name__}: {exc}", seconds=seconds)
            outcome.failures.append(failure)
            if on_done:
                on_done(case, failure)
            continue
        seconds = round(time.perf_counter() - started, 1)
        path = reports_dir / f"{number:02d}-{slug(case.topic)}.json"
        path.write_text(report.to_json(), encoding="utf-8")
        path.with_suffix(".md").write_text(report.to_markdown(), encoding="utf-8")
        result = score_report(report, expect_urls=case.expect_urls, relevant_urls=case.relevant_urls,
                              sections_asked=sections_asked(overrides), category=case.category, seconds=seconds,
                              file=path, thresholds=thresholds, similarity=similarity, judge=judge)
        outcome.evals.append(result)
        if on_done:
            on_done(case, result)
    return outcome
