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

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from nexa_research.config import ResearchConfig
from nexa_research.errors import NexaError, ResearchInputError
from nexa_research.providers.provider_set import Providers
from nexa_research.report import Report
from nexa_research.runtime import ResearchRuntime
from nexa_research.state import validate_topic
from nexa_research.tracing import trace_options, with_trace_options

UpdateHandler = Callable[[tuple[str, ...], dict[str, Any]], None]


class PlanReviewPending(NexaError):
    """The run paused for plan review. `plan` is what to review; resume with the same `thread_id`."""

    def __init__(self, thread_id: str, plan: Any) -> None:
        super().__init__(f"plan review pending on thread {thread_id}: resume with resume='approve' or an edited plan")
        self.thread_id = thread_id
        self.plan = plan


class PlanRejected(NexaError):
    """The reviewer rejected the plan: the run ended without research. `reason` is theirs ("" when none given)."""

    def __init__(self, thread_id: str, reason: str) -> None:
        super().__init__(f"the plan on thread {thread_id} was rejected{': ' + reason if reason else ''}; no report")
        self.thread_id = thread_id
        self.reason = reason


def resolve_config(config: ResearchConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> ResearchConfig:
    """A `ResearchConfig` from an instance, a mapping, or keyword overrides (overrides win)."""
    if isinstance(config, ResearchConfig):
        values = {**config.as_configurable(), **overrides}
    else:
        values = {**dict(config or {}), **overrides}
    return ResearchConfig.from_values(values)


async def run_on_thread(
    runtime: ResearchRuntime,
    topic: str | None,
    cfg: ResearchConfig | None,
    thread_id: str | None,
    resume: Any = None,
    checkpoint_id: str | None = None,
    on_update: UpdateHandler | None = None,
) -> Report:
    """Start, continue or replay the run on `thread_id` (None: a new thread) inside an open runtime.

    On an existing thread, `cfg` holds only what the caller set explicitly: it is merged over the thread's stored
    config (a continued run keeps every knob it started with unless told otherwise).
    """
    thread_id = thread_id or uuid.uuid4().hex
    snapshot = await runtime.snapshot(thread_id, checkpoint_id)
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
        stored = dict(existing.get("config") or {})
        cfg = ResearchConfig.from_values({**stored, **(cfg.as_configurable() if cfg is not None else {})})
        payload = Command(resume=resume) if resume is not None else None
    lookup = {"thread_id": thread_id, **({"checkpoint_id": checkpoint_id} if checkpoint_id else {})}
    run_config = with_trace_options({"configurable": {**cfg.as_configurable(), **lookup}},
                                    trace_options(None, thread_id, cfg))
    result = await runtime.run(payload, run_config, on_update)
    if result.get("__interrupt__"):
        raise PlanReviewPending(thread_id, result["__interrupt__"][0].value)
    if result.get("plan_rejection") is not None:
        raise PlanRejected(thread_id, result["plan_rejection"])
    return Report.model_validate(result["report"])


async def aresearch(
    topic: str,
    config: ResearchConfig | Mapping[str, Any] | None = None,
    *,
    providers: Providers | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
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
    async with ResearchRuntime(providers, checkpointer=checkpointer, use_cache=cfg.use_cache) as runtime:
        runtime.providers.validate(cfg)  # type: ignore[union-attr]
        return await run_on_thread(runtime, topic, cfg, thread_id, resume, on_update=on_update)


async def aresume(
    thread_id: str,
    *,
    resume: Any = None,
    checkpoint_id: str | None = None,
    providers: Providers | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
) -> Report:
    """Continue the run stored on `thread_id` (or replay it from `checkpoint_id`: time travel) with its own config."""
    async with ResearchRuntime(providers, checkpointer=checkpointer) as runtime:
        return await run_on_thread(runtime, None, None, thread_id, resume, checkpoint_id)


def research(topic: str, config: ResearchConfig | Mapping[str, Any] | None = None, **kwargs: Any) -> Report:
    """Blocking `aresearch`, for scripts and notebooks without a running event loop."""

    return asyncio.run(aresearch(topic, config, **kwargs))
