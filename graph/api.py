"""The library entry points: `research(topic)` and `aresearch(topic)` return a `Report`.

Input and config are validated before any model is called. With `review_plan` on, the run pauses after
planning and raises `PlanReviewPending`; call again with the same `thread_id` and `resume=` to continue.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Checkpointer, Command

from nexa_research.builder import build_graph
from nexa_research.config import ResearchConfig
from nexa_research.errors import NexaError
from nexa_research.providers.provider_set import Providers
from nexa_research.report import Report
from nexa_research.state import validate_topic

# Plan review needs a checkpointer; without one from the caller, paused runs live in this process.
_PROCESS_CHECKPOINTER = InMemorySaver()


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


def prepare_run(
    topic: str,
    config: ResearchConfig | Mapping[str, Any] | None,
    overrides: Mapping[str, Any],
    thread_id: str | None,
) -> tuple[str, ResearchConfig, dict[str, Any]]:
    """Validate topic and config (before any model is called) and build the RunnableConfig for one run."""
    topic = validate_topic(topic)
    cfg = resolve_config(config, overrides)
    run_config = {"configurable": {**cfg.as_configurable(), "thread_id": thread_id or uuid.uuid4().hex}}
    return topic, cfg, run_config


async def aresearch(
    topic: str,
    config: ResearchConfig | Mapping[str, Any] | None = None,
    *,
    providers: Providers | None = None,
    checkpointer: Checkpointer = None,
    thread_id: str | None = None,
    resume: Any = None,
    **overrides: Any,
) -> Report:
    """Research `topic` and return the report. Keyword overrides are config fields (e.g. `max_iterations=2`)."""
    topic, _, run_config = prepare_run(topic, config, overrides, thread_id)
    graph = build_graph(providers, checkpointer if checkpointer is not None else _PROCESS_CHECKPOINTER)
    payload: Any = Command(resume=resume) if resume is not None else {"topic": topic}
    result = await graph.ainvoke(payload, run_config)
    if result.get("__interrupt__"):
        raise PlanReviewPending(run_config["configurable"]["thread_id"], result["__interrupt__"][0].value)
    return Report.model_validate(result["report"])


def research(topic: str, config: ResearchConfig | Mapping[str, Any] | None = None, **kwargs: Any) -> Report:
    """Blocking `aresearch`, for scripts and notebooks without a running event loop."""
    return asyncio.run(aresearch(topic, config, **kwargs))
