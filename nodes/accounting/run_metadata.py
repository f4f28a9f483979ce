"""Report metadata from the run's step records: time per node, tokens and models per role, rounds per section."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig

from nexa_research.config import ResearchConfig
from nexa_research.prompts import prompt_versions
from nexa_research.report import ReportMetadata
from nexa_research.state import Paragraph, StepRecord


def build_metadata(
    topic: str,
    paragraphs: Sequence[Paragraph],
    steps: Sequence[StepRecord],
    cfg: ResearchConfig,
    config: RunnableConfig,
    models: dict[str, list[str]],
    warnings: list[str],
) -> ReportMetadata:
    timings: dict[str, float] = defaultdict(float)
    tokens: dict[str, dict[str, int]] = defaultdict(lambda: {"input_tokens": 0, "output_tokens": 0})
    used: dict[str, list[str]] = defaultdict(list)
    cache: dict[str, int] = {}
    for step in steps:
        if step.get("cache"):
            key = f"search_{'hits' if step['cache'] == 'hit' else 'misses'}"
            cache[key] = cache.get(key, 0) + 1
        timings[step["node"]] += step["seconds"]
        if step["role"]:
            tokens[step["role"]]["input_tokens"] += step["input_tokens"]
            tokens[step["role"]]["output_tokens"] += step["output_tokens"]
            if step["model"] and step["model"] not in used[step["role"]]:
                used[step["role"]].append(step["model"])
    configurable: dict[str, Any] = (config or {}).get("configurable") or {}
    return ReportMetadata(
        topic=topic,
        thread_id=configurable.get("thread_id"),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        models=models,
        models_used=dict(used),
        prompt_versions=prompt_versions(),
        iterations={p["title"]: p["iterations"] for p in paragraphs},
        sources_per_round={p["title"]: [r["added"] for r in p.get("rounds") or []] for p in paragraphs},
        timings={k: round(v, 3) for k, v in timings.items()},
        token_usage=dict(tokens),
        config=cfg.model_dump(mode="json"),
        cache=cache,
        warnings=[*warnings, *(f"section {p['title']!r}: {w}" for p in paragraphs for w in p.get("warnings") or [])],
    )
