"""The library entry points: `research(topic)` / `aresearch(topic)` return a `Report`; `aresume(thread_id)` continues.

Input and config are validated before any model is called. Runs are checkpointed (Redis by default), so calling
again with the same `thread_id` continues an interrupted run without redoing finished work, and a finished
thread returns its report. With `review_plan` on, the run pauses after planning and raises `PlanReviewPending`;
call again with the same `thread_id` and `resume=` to continue.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.types import Checkpointer, Command

from nexa_research.builder import build_graph
from nexa_research.config import ResearchConfig
from nexa_research.errors import NexaError, ResearchInputError
from nexa_research.persistence import RunServices, close_loop_services, open_run_services
from nexa_research.providers.provider_set import ConfiguredProviders, Providers
from nexa_research.report import Report
from nexa_research.state import validate_topic


UpdateHandler = Callable[[tuple[str, ...], dict[str, Any]], None]


class PlanReviewPending(NexaError):
    """The run paused for plan review. `plan` is what to review; resume with the same `thread_id`."""

    def __init__(self, thread_id: str, plan: Any) -> None:
        super().__init__(f"plan review pending on thread {thread_id}: resume with resume='approve' or an edited plan")
        self.thread_id = thread_id
        self.plan = plan


def resolve_config(config: ResearchConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> ResearchConfig:
    """A `ResearchConfig` from an instance, a mapping, or keyword overrides (overrides win)."""
    if isinstance(config, ResearchConfig):
        values = {**config.as_configurable(), **overrides}
    else:
        values = {**dict(config or {}), **overrides}
    return ResearchConfig.from_values(values)


def _run_providers(providers: Providers, services: RunServices) -> Providers:
    """The run's providers, behind the Redis cache when there is one."""
    if services.cache is not None:
        from nexa_research.providers.cached_providers import CachingProviders

        providers = CachingProviders(providers, services.cache)  # type: ignore[arg-type]
    return providers


async def _execute(
    topic: str | None,
    cfg: ResearchConfig | None,
    services: RunServices,
    providers: Providers,
    thread_id: str | None,
    resume: Any,
    checkpoint_id: str | None = None,
    thread_config_wins: bool = False,
    on_update: UpdateHandler | None = None,
) -> Report:
    """Start, continue or replay the run on `thread_id` (None: a new thread, which may be served from the cache).

    On an existing thread the thread's own stored config is used when `thread_config_wins` (or `cfg` is None).
    """
    if thread_id is None:
        if topic is None or cfg is None:
            raise ResearchInputError("thread_id: needed to continue a run")
        cached = await _cached_report(services, topic, cfg)
        if cached is not None:
            return cached
        thread_id = uuid.uuid4().hex
    graph = build_graph(_run_providers(providers, services), services.checkpointer)
    lookup = {"configurable": {"thread_id": thread_id, **({"checkpoint_id": checkpoint_id} if checkpoint_id else {})}}
    snapshot = await graph.aget_state(lookup) if services.checkpointer is not None else None
    existing = snapshot.values if snapshot is not None and snapshot.values else None
    if existing is None:
        if topic is None or cfg is None:
            raise ResearchInputError(f"thread_id: no run is stored on thread {thread_id!r}")
        if resume is not None:
            raise ResearchInputError(f"resume: thread {thread_id!r} has no paused run to resume")
        payload: Any = {"topic": topic}
    else:
        if topic is not None and " ".join(existing["topic"].split()).casefold() != topic.casefold():
            raise ResearchInputError(f"thread_id: thread {thread_id!r} holds a run on {existing['topic']!r}, not {topic!r}")
        if not snapshot.next and existing.get("report") and checkpoint_id is None:
            return Report.model_validate(existing["report"])
        if snapshot.interrupts and resume is None:
            raise PlanReviewPending(thread_id, snapshot.interrupts[0].value)
        if thread_config_wins or cfg is None:
            cfg = ResearchConfig.from_values(existing.get("config") or {})
        payload = Command(resume=resume) if resume is not None else None
    run_config = {"configurable": {**cfg.as_configurable(), **lookup["configurable"]}}
    result = await _invoke(graph, payload, run_config, on_update)
    if result.get("__interrupt__"):
        raise PlanReviewPending(thread_id, result["__interrupt__"][0].value)
    report = Report.model_validate(result["report"])
    if existing is None and services.cache is not None and cfg.use_cache and not report.missing_sections:
        await services.cache.put_report(  # type: ignore[attr-defined]
            topic, cfg.fingerprint(), report.model_dump(mode="json"), ttl_seconds=cfg.report_cache_ttl_seconds
        )
    return report


async def _invoke(graph: Any, payload: Any, run_config: dict[str, Any], on_update: UpdateHandler | None) -> dict[str, Any]:
    """Run the graph, every step checkpointed before the next starts; stream updates to `on_update` if given."""
    # "sync" durability with no checkpointer trips LangGraph 1.2 (AttributeError _put_checkpoint_fut)
    durability = {"durability": "sync"} if graph.checkpointer is not None else {}
    if on_update is None:
        return await graph.ainvoke(payload, run_config, **durability)
    result: dict[str, Any] = {}
    interrupts: list[Any] = []
    async for namespace, mode, chunk in graph.astream(
        payload, run_config, stream_mode=["updates", "values"], subgraphs=True, **durability
    ):
        if mode == "updates":
            on_update(namespace, chunk)
            interrupts.extend(chunk.get("__interrupt__", ()))
        elif not namespace:
            result = chunk
    return {**result, "__interrupt__": interrupts}


async def _cached_report(services: RunServices, topic: str, cfg: ResearchConfig) -> Report | None:
    if services.cache is None or not cfg.use_cache:
        return None
    stored = await services.cache.get_report(topic, cfg.fingerprint())  # type: ignore[attr-defined]
    if stored is None:
        return None
    report = Report.model_validate(stored)
    report.metadata.cache = {**report.metadata.cache, "report_hits": 1}
    return report


async def aresearch(
    topic: str,
    config: ResearchConfig | Mapping[str, Any] | None = None,
    *,
    providers: Providers | None = None,
    checkpointer: Checkpointer = None,
    thread_id: str | None = None,
    resume: Any = None,
    on_update: UpdateHandler | None = None,
    **overrides: Any,
) -> Report:
    """Research `topic` and return the report. Keyword overrides are config fields (e.g. `max_iterations=2`).

    `on_update(namespace, chunk)` receives every node's update as it happens (subgraph namespaces included).

    An existing `thread_id` continues that thread: a finished one returns its report, an interrupted one resumes
    from its last checkpoint, a paused one needs `resume=` (approval or an edited plan).
    """
    topic = validate_topic(topic)
    cfg = resolve_config(config, overrides)
    owned = providers is None
    providers = providers or ConfiguredProviders()
    providers.validate(cfg)
    explicit = config is not None or bool(overrides)
    try:
        async with open_run_services(checkpointer=checkpointer, use_cache=cfg.use_cache) as services:
            return await _execute(
                topic, cfg, services, providers, thread_id, resume,
                thread_config_wins=not explicit, on_update=on_update,
            )
    finally:
        if owned:
            providers.close()


async def aresume(
    thread_id: str,
    *,
    resume: Any = None,
    checkpoint_id: str | None = None,
    providers: Providers | None = None,
    checkpointer: Checkpointer = None,
) -> Report:
    """Continue the run stored on `thread_id` (or replay it from `checkpoint_id`: time travel) with its own config."""
    owned = providers is None
    providers = providers or ConfiguredProviders()
    try:
        async with open_run_services(checkpointer=checkpointer) as services:
            return await _execute(
                None, None, services, providers, thread_id, resume, checkpoint_id, thread_config_wins=True
            )
    finally:
        if owned:
            providers.close()


def research(topic: str, config: ResearchConfig | Mapping[str, Any] | None = None, **kwargs: Any) -> Report:
    """Blocking `aresearch`, for scripts and notebooks without a running event loop."""

    async def main() -> Report:
        try:
            return await aresearch(topic, config, **kwargs)
        finally:
            await close_loop_services()

    return asyncio.run(main())
