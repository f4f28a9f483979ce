"""Finished reports served from the cache, and stored in it: two nodes, so every entry point caches alike.

The cache lives in the graph (not in one caller's wrapper) so the library, the CLI, LangServe and Studio all
get the same behaviour. A report's identity is the topic, every config field that shapes it, and what the
environment resolved for this run: the model behind each role and the search backend "auto" chose. Without
the last two, switching from the local model to a hosted one would serve the local model's cached report.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.redis_cache import digest
from nexa_research.state import ResearchState


def stable_label(label: str) -> str:
    """The embedded llama.cpp server gets a new port per process: the model, not the port, is what shapes a report."""
    from nexa_research.providers.llm.local_server import embedded_base_urls

    for url in embedded_base_urls():
        if label.startswith(f"{url} "):
            return f"embedded {label[len(url) + 1:]}"
    return label


async def report_identity(providers: Providers, cfg: ResearchConfig) -> str:
    """The config fingerprint plus the resolved models per role and the resolved search backend, hashed."""
    models = await providers.adescribe_models(cfg)
    resolved = {role: [stable_label(label) for label in labels] for role, labels in sorted(models.items())}
    return digest(cfg.fingerprint(), json.dumps(resolved, sort_keys=True), await providers.asearch_name(cfg))


def _usable(providers: Providers, cfg: ResearchConfig) -> Any:
    """The report cache, unless caching is off or the plan is reviewed: a person who asked to review the plan must
    be asked (a cached report would skip the pause), and a report from an edited plan is not the report the
    cache key (topic + settings) describes."""
    cache = providers.report_cache()
    return cache if cache is not None and cfg.use_cache and not cfg.review_plan else None


def make_cached_report_node(providers: Providers):
    """First node: a cached report for this topic and identity ends the run at once; otherwise planning starts."""

    async def cached_report(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> Command:
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        cache = _usable(providers, cfg)
        if cache is None:
            return Command(goto="plan")
        stored = await cache.get_report(state["topic"], await report_identity(providers, cfg))
        if stored is None:
            return Command(goto="plan")
        stored["metadata"]["cache"] = {**stored["metadata"].get("cache", {}), "report_hits": 1}
        return Command(update={"report": stored, "title": stored.get("title")}, goto=END)

    return cached_report


def make_store_report_node(providers: Providers):
    """Last node: a complete report (no missing section) is cached for the run's TTL."""

    async def store_report(
        state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]
    ) -> dict[str, Any]:
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        cache = _usable(providers, cfg)
        report = state.get("report")
        if cache is None or not report or any(s.get("status") == "missing" for s in report.get("sections", [])):
            return {}
        await cache.put_report(
            state["topic"], await report_identity(providers, cfg), report, ttl_seconds=cfg.report_cache_ttl_seconds
        )
        return {}

    return store_report
