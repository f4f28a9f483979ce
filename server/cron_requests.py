"""Turning a cron request into a cron record: the schedule and the run payload checked before anything is stored.

A cron creates runs later, in the scheduler, with nobody waiting for an answer, so everything a run request is
refused for is checked now, by the runs API's own checks (server/run_requests.py `validate_request`, the knobs,
the key's tier and the endpoint-knob rule): a cron that is stored is one whose runs the runs API would take. What
can only be known when it fires (the day's quota, the thread busy under `reject`) is decided then.

Differences from the official server, each refused with a 422 naming the field rather than silently ignored:
no `webhook` (this server sends none; read a cron's runs with `runs.list` or `threads.search` by `cron_id`
metadata), no `command` (a cron starts runs from its input), and an `input` is required (every run researches it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nexa_research.server.access.admission import fit_knobs
from nexa_research.server.access.api_keys import ApiKey
from nexa_research.server.api_errors import ApiError
from nexa_research.server.assistant_lookup import run_defaults
from nexa_research.server.cron_schedule import check_end_time, check_schedule, check_timezone
from nexa_research.server.knobs import check_knobs
from nexa_research.server.records import new_id, now_iso
from nexa_research.server.routes.assistants import ASSISTANT_ID, GRAPH_ID
from nexa_research.server.run_requests import RunCreate, validate_request

# What a cron keeps of a run request, to create each of its runs from.
RUN_FIELDS = ("assistant_id", "input", "config", "context", "metadata", "stream_mode", "stream_subgraphs",
              "stream_resumable", "interrupt_before", "interrupt_after", "multitask_strategy")
CRON_FIELDS = ("cron_id", "assistant_id", "thread_id", "on_run_completed", "end_time", "schedule", "timezone",
               "created_at", "updated_at", "payload", "user_id", "next_run_date", "metadata", "enabled")


class CronCreate(RunCreate):
    """A cron request as langgraph_sdk's `crons.create`/`create_for_thread` send it: a run request and its schedule."""

    schedule: str = Field(description="Cron schedule, UTC unless `timezone`: '0 9 * * 1' is Mondays at 9:00.")
    end_time: datetime | None = Field(default=None, description="No run is created after this time.")
    enabled: bool = True
    timezone: str | None = Field(default=None, description="IANA timezone the schedule is read in.")
    on_run_completed: Literal["delete", "keep"] | None = Field(
        default=None, description="Stateless crons: delete each run's thread when the run ends (default) or keep it.")
    webhook: str | None = None


class CronPatch(BaseModel):
    """What `crons.update` may change; `end_time: null` clears the end time, leaving it out keeps it."""

    model_config = ConfigDict(extra="allow")
    schedule: str | None = None
    end_time: datetime | None = None
    enabled: bool | None = None
    timezone: str | None = None
    on_run_completed: Literal["delete", "keep"] | None = None
    webhook: str | None = None
    input: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    stream_mode: str | list[str] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    interrupt_before: list[str] | Literal["*"] | None = None
    interrupt_after: list[str] | Literal["*"] | None = None
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] | None = None


def assistant_key(assistant_id: str) -> str:
    """The assistant id a cron is filed under: the graph name stands for its assistant, as in runs."""
    return ASSISTANT_ID if assistant_id == GRAPH_ID else assistant_id


def check_payload(
    payload: dict[str, Any], key: ApiKey | None, access: Any, assistant: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The run payload, checked as the runs API checks a run request under `key`; 403/404/422 naming the field.
    A stored `assistant`'s knobs are checked with the payload's own, as each run will merge them when it fires
    (a free key's cron must not get past its tier through an assistant); the payload is kept as sent."""
    try:
        body = RunCreate(**payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ApiError(422, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    if body.input is None:
        raise ApiError(422, 'input: a cron needs an input like {"topic": "..."}: each of its runs researches it')
    if body.multitask_strategy == "rollback":
        raise ApiError(422, "multitask_strategy: 'rollback' is not supported (checkpoints are never rewound); "
                            "use 'interrupt' or 'enqueue'")
    kwargs = validate_request(body)
    if assistant is not None:
        kwargs["context"] = {**run_defaults(assistant, kwargs["config"], kwargs["context"]), **kwargs["context"]}
    knobs = check_knobs(kwargs["config"], kwargs["context"])
    fitted = fit_knobs(knobs, key, access)
    if fitted != knobs:
        check_knobs(kwargs["config"], {**kwargs["context"], **fitted})  # the tier's limits must fit the rest
    checked = {**payload, "input": kwargs["input"], "stream_mode": kwargs["stream_mode"]}
    return {name: checked[name] for name in RUN_FIELDS if checked.get(name) is not None}


def _refuse_unsupported(webhook: str | None) -> None:
    if webhook:
        raise ApiError(422, "webhook: not supported by this server; find a cron's runs with threads.search "
                            "(metadata cron_id) or runs.list on its thread")


def new_cron(
    body: CronCreate, thread_id: str | None, key: ApiKey | None, access: Any, assistant: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record of a new cron (checked; not stored). A thread cron runs on `thread_id`, a stateless one on a
    new thread per run, which is deleted after its run unless `on_run_completed` is 'keep'."""
    _refuse_unsupported(body.webhook)
    if body.command is not None:
        raise ApiError(422, "command: a cron starts new runs from its input; it takes no command")
    payload = check_payload(body.model_dump(include=set(RUN_FIELDS), exclude_none=True), key, access, assistant)
    stamp = now_iso()
    return {
        "cron_id": new_id(), "assistant_id": assistant_key(body.assistant_id), "thread_id": thread_id,
        "user_id": key.owner if key is not None else None, "owner": key.key_id if key is not None else None,
        "schedule": check_schedule(body.schedule), "timezone": check_timezone(body.timezone),
        "end_time": check_end_time(body.end_time),
        "payload": payload, "metadata": body.metadata or {}, "enabled": body.enabled,
        "on_run_completed": None if thread_id else body.on_run_completed or "delete",
        "created_at": stamp, "updated_at": stamp,
    }


def patched_cron(
    cron: dict[str, Any], patch: CronPatch, key: ApiKey | None, access: Any, assistant: dict[str, Any] | None = None
) -> tuple[dict[str, Any], bool]:
    """The cron with `patch` applied and checked, and whether its due time must be worked out again."""
    given = patch.model_fields_set & set(CronPatch.model_fields)
    if not given:
        raise ApiError(422, "body: give at least one field to change")
    _refuse_unsupported(patch.webhook)
    cron = dict(cron)
    if patch.schedule is not None:
        cron["schedule"] = check_schedule(patch.schedule)
    if patch.timezone is not None:
        cron["timezone"] = check_timezone(patch.timezone)
    if "end_time" in given:
        cron["end_time"] = check_end_time(patch.end_time)
    if patch.enabled is not None:
        cron["enabled"] = patch.enabled
    if patch.on_run_completed is not None:
        if cron["thread_id"]:
            raise ApiError(422, "on_run_completed: only for stateless crons; a thread cron's runs stay on its thread")
        cron["on_run_completed"] = patch.on_run_completed
    if patch.metadata is not None:
        cron["metadata"] = {**cron["metadata"], **patch.metadata}
    run_changes = patch.model_dump(include=set(RUN_FIELDS) - {"metadata"}, exclude_none=True)
    if run_changes:
        cron["payload"] = check_payload({**cron["payload"], **run_changes}, key, access, assistant)
    reschedule = bool(given & {"schedule", "timezone", "end_time", "enabled"})
    return cron, reschedule


def cron_view(cron: dict[str, Any], next_run_date: str | None) -> dict[str, Any]:
    """A `Cron` of the SDK (the owning key's id left out)."""
    return {**{k: cron.get(k) for k in CRON_FIELDS}, "next_run_date": next_run_date}
