"""The report of a finished thread, read from the checkpointer without running anything: what `nexa report` and
the server's `GET /threads/{id}/report` show.

A thread is finished when its state holds a report and no step is left to run (the same test `nexa threads`
uses for "done"); a thread still running, paused for plan review or interrupted has no report to show yet, and
saying which of those it is tells the reader what to do.
"""

from __future__ import annotations

from typing import Any

from nexa_research.errors import NexaError, ResearchInputError
from nexa_research.report import Report
from nexa_research.runtime import ResearchRuntime
from nexa_research.threads import describe_snapshot


class ReportNotReady(NexaError):
    """The thread exists but has no finished report: `status` says what it is doing instead."""

    def __init__(self, thread_id: str, status: str) -> None:
        super().__init__(f"thread {thread_id!r} has no finished report yet ({status})")
        self.thread_id = thread_id
        self.status = status


def finished_report(thread_id: str, snapshot: Any) -> Report:
    """The report in `snapshot` (a thread's current state); ReportNotReady when the run is not finished."""
    if snapshot is None or not snapshot.values:
        raise ReportNotReady(thread_id, "no run has written state on it")
    status = describe_snapshot(thread_id, snapshot)["status"]
    if status != "done":
        raise ReportNotReady(thread_id, status)
    return Report.model_validate(snapshot.values["report"])


async def read_stored_report(thread_id: str) -> Report:
    """The finished report of `thread_id` in the configured checkpointer (NEXA_CHECKPOINTER, REDIS_URL)."""
    async with ResearchRuntime(use_cache=False) as runtime:
        snapshot = await runtime.snapshot(thread_id)
        if snapshot is None or not snapshot.values:
            raise ResearchInputError(f"thread_id: no run is stored on thread {thread_id!r}")
        return finished_report(thread_id, snapshot)
