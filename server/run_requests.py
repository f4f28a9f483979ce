"""Turning a run request into a queued run: validation, the thread's multitask rule, the record, the message.

Shared by the background, wait and stream routes, threaded and stateless. Validation happens here, before
anything is written, so a bad request leaves no trace. Multitask strategies on a thread with a pending or
running run: `reject` (the default) is a 409; `enqueue` queues the run behind it (the worker waits for the
thread's earlier runs); `interrupt` and `rollback` cancel the runs in progress (their finished work stays in
the checkpoints) and queue the new one. A run of a stored assistant takes the assistant's knobs under its own
(server/assistant_lookup.py) before the knob, endpoint and tier checks, so those see what the run will use.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.server.access.admission import api_key_of, fit_knobs, quota_headers, take_quota
from nexa_research.server.api_errors import ApiError, not_found
from nexa_research.server.assistant_lookup import GRAPH_ID, check_assistant_id, find_assistant, run_defaults
from nexa_research.server.context import ServerContext
from nexa_research.server.job_queue import enqueue_run
from nexa_research.server.knobs import check_command, check_input, check_knobs
from nexa_research.server.lease import request_cancel
from nexa_research.server.records import new_id, now_iso


class RunCreate(BaseModel):
    """A run request, as langgraph_sdk sends it (fields it sends that this server ignores are accepted)."""

    model_config = ConfigDict(extra="allow")
    assistant_id: str = Field(description="The graph name ('nexa_research'), its assistant id or a stored assistant's id.")
    input: dict[str, Any] | None = Field(default=None, description='{"topic": "..."}')
    command: dict[str, Any] | None = Field(default=None, description='{"resume": "approve"} or an edited plan')
    config: dict[str, Any] | None = Field(default=None, description="`configurable` may carry research knobs")
    context: dict[str, Any] | None = Field(default=None, description="Research knobs (see the assistant's schema)")
    metadata: dict[str, Any] | None = None
    stream_mode: str | list[str] = "values"
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    interrupt_before: list[str] | Literal["*"] | None = None
    interrupt_after: list[str] | Literal["*"] | None = None
    checkpoint_id: str | None = Field(default=None, description="Start from this checkpoint of the thread (replay, fork).")
    checkpoint: dict[str, Any] | None = Field(
        default=None, description="{checkpoint_id, checkpoint_ns}: the same as checkpoint_id, as Studio sends it.")


STREAM_MODES = frozenset({"values", "updates", "custom", "events", "debug", "messages", "messages-tuple", "tasks", "checkpoints"})


def validate_request(body: RunCreate) -> dict[str, Any]:
    """The run's kwargs, validated; 404/422 with the reason otherwise."""
    check_assistant_id(body.assistant_id)
    if body.input == {} and body.command is not None:
        body.input = None  # chat clients (useStream) resume an interrupt with an empty input beside the command
    if body.input is not None and body.command is not None:
        raise ApiError(422, "input: give either input or command, not both")
    modes = [body.stream_mode] if isinstance(body.stream_mode, str) else list(body.stream_mode)
    unknown = [m for m in modes if m not in STREAM_MODES]
    if unknown:
        raise ApiError(422, f"stream_mode: unknown mode {unknown[0]!r}; modes are {', '.join(sorted(STREAM_MODES))}")
    kwargs: dict[str, Any] = {
        "input": check_input(body.input) if body.input is not None else None,
        "command": check_command(body.command) if body.command is not None else None,
        "config": body.config or {},
        "context": body.context or {},
        "metadata": body.metadata or {},
        "stream_mode": modes,
        "stream_subgraphs": body.stream_subgraphs,
        "stream_resumable": body.stream_resumable,
        "interrupt_before": body.interrupt_before,
        "interrupt_after": body.interrupt_after,
        "checkpoint_id": requested_checkpoint(body),
    }
    return kwargs


def requested_checkpoint(body: RunCreate) -> str | None:
    """The checkpoint the run starts from: `checkpoint_id`, or `checkpoint.checkpoint_id` (Studio sends both
    shapes); 422 when they disagree or name a subgraph's checkpoint (runs start from the graph's own)."""
    checkpoint = body.checkpoint or {}
    if checkpoint.get("checkpoint_ns"):
        raise ApiError(422, "checkpoint.checkpoint_ns: a run starts from one of the graph's own checkpoints "
                            f"(namespace ''), not from {checkpoint['checkpoint_ns']!r}")
    nested = checkpoint.get("checkpoint_id")
    if nested is not None and not isinstance(nested, str):
        raise ApiError(422, "checkpoint.checkpoint_id: must be a string")
    if nested and body.checkpoint_id and nested != body.checkpoint_id:
        raise ApiError(422, f"checkpoint.checkpoint_id: {nested!r} differs from checkpoint_id {body.checkpoint_id!r}")
    return body.checkpoint_id or nested or None


async def create_run(ctx: ServerContext, thread_id: str | None, body: RunCreate, request: Request) -> dict[str, Any]:
    """Validate, record and queue a run on `thread_id` (None: a new thread of its own, a stateless run).

    The quota is taken last, just before the run is recorded, so a request refused for another reason costs
    none; the admission is left on `request.state` for the response's quota headers.
    """
    key = api_key_of(request)
    owner = key.key_id if key is not None else None
    kwargs = validate_request(body)
    assistant = await find_assistant(ctx.redis, owner, body.assistant_id)
    if kwargs["input"] is not None:  # a stored assistant's knobs under the run's own; a continued run keeps its config
        kwargs["context"] = {**run_defaults(assistant, kwargs["config"], kwargs["context"]), **kwargs["context"]}
    knobs = check_knobs(kwargs["config"], kwargs["context"])
    fill = kwargs["input"] is not None  # a new run takes its tier's limits; a continued one keeps its config
    fitted = fit_knobs(knobs, key, ctx.access, fill)
    kwargs["context"] = {**kwargs["context"], **fitted}
    if fitted != knobs:
        check_knobs(kwargs["config"], kwargs["context"])  # the tier's filled-in limits must fit the rest
    new_thread = thread_id is None
    if new_thread and kwargs["checkpoint_id"]:
        raise not_found("checkpoint", kwargs["checkpoint_id"])  # a stateless run's new thread has none
    if thread_id is None:
        thread, _ = await ctx.store.create_thread(None, {"stateless": True, **(body.metadata or {})}, owner)
        thread_id = thread["thread_id"]
    elif await ctx.thread_record(thread_id, owner) is None:
        if body.if_not_exists != "create" or await ctx.store.get_thread(thread_id) is not None:
            raise not_found("thread", thread_id)
        snapshot = await ctx.runtime.snapshot(thread_id)
        if owner is not None and snapshot is not None and snapshot.values:
            raise not_found("thread", thread_id)  # checkpoints nobody's key owns
        await ctx.store.create_thread(thread_id, body.metadata or {}, owner)
    try:
        run = await _record_run(ctx, thread_id, new_thread, body, kwargs, assistant["assistant_id"], request)
    except BaseException:
        if new_thread:  # a stateless run refused (quota, a bad command): its new thread leaves no empty record
            await ctx.store.delete_thread(thread_id)
        raise
    if not new_thread and ctx.runtime.retention is not None:
        await ctx.runtime.retention.keep(thread_id)  # a finished thread expiring: kept while the run waits and runs
    await enqueue_run(ctx.broker, run["run_id"])
    return run


async def _record_run(
    ctx: ServerContext, thread_id: str, new_thread: bool, body: RunCreate, kwargs: dict[str, Any],
    assistant_id: str, request: Request,
) -> dict[str, Any]:
    """The run's last checks on its thread (state to resume, the thread busy), the quota, and its record."""
    key = api_key_of(request)
    owner = key.key_id if key is not None else None
    snapshot = None if new_thread else await ctx.runtime.snapshot(thread_id)  # a new thread has no state
    if kwargs["checkpoint_id"]:
        snapshot = await _state_at_checkpoint(ctx, thread_id, kwargs["checkpoint_id"])
    has_state = snapshot is not None and bool(snapshot.values)
    if kwargs["command"] is not None and "resume" in kwargs["command"] and not (has_state and snapshot is not None and snapshot.interrupts):
        raise ApiError(409, f"command.resume: thread {thread_id!r} is not interrupted; there is nothing to resume")
    if kwargs["input"] is None and kwargs["command"] is None and not has_state:
        raise ApiError(422, 'input: a new thread needs an input like {"topic": "..."}')
    strategy = body.multitask_strategy or "reject"
    if strategy == "rollback":
        raise ApiError(422, "multitask_strategy: 'rollback' is not supported (checkpoints are never rewound); "
                            "use 'interrupt', which keeps the finished work, or 'enqueue'")
    async with ctx.store.thread_lock(thread_id):
        active = await ctx.store.active_runs_of(thread_id)
        if active and strategy == "reject":
            raise ApiError(409, f"thread {thread_id!r} is busy with run {active[0]['run_id']}; "
                                "use multitask_strategy 'enqueue' to queue behind it")
        if active and strategy in ("interrupt", "rollback"):
            for run in active:
                await request_cancel(ctx.redis, run["run_id"], "interrupt")
        await _label_thread(ctx, thread_id, assistant_id)
        run_id = new_id()
        request.state.admission = await take_quota(ctx, key, run_id)
        stamp = now_iso()
        try:
            run = await ctx.store.add_run({
                "run_id": run_id, "thread_id": thread_id, "assistant_id": assistant_id,
                "created_at": stamp, "updated_at": stamp, "status": "pending", "owner": owner,
                "tier": key.tier if key is not None else None, "correlation_id": correlation_of(request),
                "metadata": body.metadata or {}, "kwargs": kwargs, "multitask_strategy": strategy, "attempt": 0,
            })
        except BaseException:
            if key is not None:
                await ctx.quotas.refund(key.key_id, run_id)
            raise
    return run


async def _state_at_checkpoint(ctx: ServerContext, thread_id: str, checkpoint_id: str) -> Any:
    """The thread's state at the checkpoint a run starts from (replay, fork); 404 when the thread has no such
    checkpoint, so the run is refused before it is recorded rather than run on an empty state."""
    snapshot = await ctx.runtime.snapshot(thread_id, checkpoint_id)
    if snapshot is None or snapshot.metadata is None:
        raise not_found("checkpoint", checkpoint_id)
    return snapshot


async def _label_thread(ctx: ServerContext, thread_id: str, assistant_id: str) -> None:
    """Mark the thread with the graph and assistant that ran on it, as LangGraph's server does: chat clients
    (agent-chat-ui) list their threads with a metadata search on `graph_id` or `assistant_id`."""
    record = await ctx.store.get_thread(thread_id)
    metadata = (record or {}).get("metadata") or {}
    if record is not None and (metadata.get("graph_id"), metadata.get("assistant_id")) != (GRAPH_ID, assistant_id):
        await ctx.store.put_thread({**record, "metadata": {**metadata, "graph_id": GRAPH_ID, "assistant_id": assistant_id}})


def admitted_headers(request: Request) -> dict[str, str]:
    return quota_headers(getattr(request.state, "admission", None))


def correlation_of(request: Request) -> str | None:
    """The request's correlation id (set by the logging middleware), carried into the worker's logs."""
    return (request.scope.get("state") or {}).get("correlation_id")


def run_view(run: dict[str, Any]) -> dict[str, Any]:
    """A `Run` of the SDK (the server's bookkeeping fields left out)."""
    keep = ("run_id", "thread_id", "assistant_id", "created_at", "updated_at", "status", "metadata", "kwargs",
            "multitask_strategy")
    return {k: run.get(k) for k in keep}
