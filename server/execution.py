"""Executing one run on a worker: the graph of the worker's `ResearchRuntime`, streamed into the run's event log.

The run behaves as the same run through `aresearch`: same runtime (Redis checkpointer with "sync" durability,
caches, memory), and on a thread that already holds a run, the knobs the caller sets are merged over the
thread's stored config. Every chunk of the stream modes the caller asked for (plus values, updates and custom,
so a later `join_stream` may ask for those) is appended to the event log as it happens.

A run given a checkpoint (`checkpoint_id`, Studio's replay and fork) starts from that checkpoint: the graph
writes its new checkpoints as that one's children, so they become the thread's latest and the thread's state
forks there; the checkpoints after it stay in the history.

A second attempt (the first worker died) continues from the thread's last checkpoint instead of starting over:
the run record keeps the checkpoint the thread was at before the first attempt (`base_checkpoint`); if the
thread moved past it, this run's input was already applied, so the graph is resumed with no input and only the
branches that had not finished run again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from nexa_research.config import ResearchConfig
from nexa_research.runtime import ResearchRuntime
from nexa_research.server.knobs import knob_values
from nexa_research.server.serialize import to_jsonable
from nexa_research.tracing import trace_options, with_trace_options

GRAPH_MODES = ("values", "updates", "custom", "debug", "messages", "tasks", "checkpoints")
Publish = Callable[[str, Any], Awaitable[Any]]


def requested_modes(kwargs: dict[str, Any]) -> list[str]:
    modes = kwargs.get("stream_mode") or ["values"]
    modes = [modes] if isinstance(modes, str) else list(modes)
    return ["messages" if m == "messages-tuple" else m for m in modes]


def _payload(kwargs: dict[str, Any]) -> Any:
    command = kwargs.get("command")
    if command:
        return Command(
            resume=command.get("resume"), update=command.get("update"), goto=command.get("goto") or ()
        )
    return kwargs.get("input")


def checkpoint_of(snapshot: Any) -> str | None:
    """The checkpoint id of a thread's state snapshot (None: no checkpointer, or a thread with no state yet)."""
    if snapshot is None or not snapshot.config:
        return None
    return cast(str | None, snapshot.config.get("configurable", {}).get("checkpoint_id"))


async def execute_run(
    runtime: ResearchRuntime, run: dict[str, Any], publish: Publish, base_checkpoint: str | None, attempt: int,
    snapshot: Any,
) -> dict[str, Any]:
    """Run the graph for `run` from the thread's state `snapshot` (`runtime.snapshot`, read once by the worker);
    return the final values (with `__interrupt__` when it paused)."""
    kwargs = run["kwargs"]
    thread_id = run["thread_id"]
    current = checkpoint_of(snapshot)
    payload = _payload(kwargs)
    moved = attempt > 1 and current != base_checkpoint
    if moved:
        payload = None  # this run's input is already in the thread: continue from its last checkpoint
    start_from = None if moved else kwargs.get("checkpoint_id")
    if start_from:
        snapshot = await runtime.snapshot(thread_id, start_from)  # replay or fork: that checkpoint's config counts
    stored = dict((snapshot.values or {}).get("config") or {}) if snapshot is not None else {}
    cfg = ResearchConfig.resolve({**stored, **knob_values(kwargs.get("config"), kwargs.get("context"))})
    runtime.providers.validate(cfg)  # type: ignore[union-attr]
    config: dict[str, Any] = {
        "configurable": {**cfg.as_configurable(), "thread_id": thread_id},
        "metadata": {**(kwargs.get("metadata") or {}), "correlation_id": run.get("correlation_id")},
    }
    if attempt == 1:
        config["run_id"] = run["run_id"]  # the trace's root; a retry gets its own (LangSmith refuses a second root)
    models = await runtime.providers.adescribe_models(cfg)  # type: ignore[union-attr]
    config = with_trace_options(config, trace_options(run["run_id"], thread_id, cfg, models, run.get("tier")))
    if start_from:
        config["configurable"]["checkpoint_id"] = start_from
    wanted = requested_modes(kwargs)
    subgraphs = bool(kwargs.get("stream_subgraphs"))
    modes = sorted({m for m in wanted if m in GRAPH_MODES} | {"values", "updates", "custom"})
    graph = runtime.graph
    durability = {"durability": "sync"} if graph.checkpointer is not None else {}
    options = dict(
        stream_mode=modes, subgraphs=True, interrupt_before=kwargs.get("interrupt_before"),
        interrupt_after=kwargs.get("interrupt_after"), **durability,
    )
    final: dict[str, Any] = {}
    interrupts: list[Any] = []

    async def handle(namespace: tuple[str, ...], mode: str, chunk: Any) -> None:
        nonlocal final
        if not namespace and mode == "values":
            final = chunk
        if not namespace and mode == "updates" and isinstance(chunk, dict) and chunk.get("__interrupt__"):
            interrupts.extend(chunk["__interrupt__"])
        if namespace and not subgraphs and mode != "custom":
            return
        name = f"{mode}|{'|'.join(namespace)}" if namespace and subgraphs else mode
        await publish(name, to_jsonable(chunk))

    if "events" in wanted:
        async for event in graph.astream_events(payload, cast(RunnableConfig, config), version="v2", **options):
            if event["event"] == "on_chain_stream" and event.get("run_id") == run["run_id"]:
                namespace, mode, chunk = event["data"]["chunk"]
                await handle(tuple(namespace), mode, chunk)
            else:
                await publish("events", to_jsonable(_event_view(event)))
    else:
        async for namespace, mode, chunk in graph.astream(payload, cast(RunnableConfig, config), **options):
            await handle(tuple(namespace), mode, chunk)
    result = to_jsonable(final)
    if interrupts:
        result = {**result, "__interrupt__": to_jsonable(interrupts)}
    return result


def _event_view(event: Mapping[str, Any]) -> dict[str, Any]:
    """An `astream_events` v2 event without objects that do not travel (callbacks, runnables)."""
    keep = ("event", "name", "run_id", "parent_ids", "tags", "metadata", "data")
    view = {k: event.get(k) for k in keep if k in event}
    metadata = view.get("metadata") or {}
    view["metadata"] = {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool, type(None)))}
    data = view.get("data") or {}
    safe: dict[str, Any] = {}
    for key, value in data.items():
        try:
            safe[key] = to_jsonable(value)
        except TypeError:
            safe[key] = repr(value)[:500]
    view["data"] = safe
    return view
