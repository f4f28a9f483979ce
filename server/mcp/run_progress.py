"""A run's progress events (nodes/progress.py, on the `custom` stream) as MCP progress notifications.

MCP asks that `progress` grow with every notification. The unit here is a finished step: the plan, each section
(done or missing), the collated report; `total` is known once the plan names the sections. The steps inside a
section (querying, searched, reflected) move the value a little within the current unit, never to the next one,
so a client's bar moves at every event and never goes backwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SECTION_FINISHED = frozenset({"done", "missing"})
STEP_WITHIN_UNIT = 0.01


@dataclass(frozen=True)
class Notification:
    progress: float
    total: float | None
    message: str


class RunProgress:
    """Folds one run's custom events into notifications; `None` for an event that says nothing new."""

    def __init__(self) -> None:
        self.finished = 0
        self.sections: int | None = None
        self.last = 0.0

    def on_event(self, data: str) -> Notification | None:
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            return None  # another kind of custom chunk: not progress
        if not isinstance(event, dict):
            return None
        message = self._describe(event)
        if message is None:
            return None
        value = max(float(self.finished), min(self.last + STEP_WITHIN_UNIT, self.finished + 1 - STEP_WITHIN_UNIT))
        if value <= self.last:
            return None
        self.last = value
        total = None if self.sections is None else float(self.sections + 2)
        return Notification(round(value, 4), total, message)

    def _describe(self, event: dict[str, Any]) -> str | None:
        kind = event.get("kind")
        if kind == "plan":
            self.sections = len(event.get("sections") or [])
            self.finished += 1
            return f"planned {self.sections} sections: {'; '.join(event.get('sections') or [])}"
        if kind == "section_progress":
            status = str(event.get("status"))
            if status in SECTION_FINISHED:
                self.finished += 1
            return f"section {event.get('section')} '{event.get('title')}': {status}{_detail(event)}"
        if kind == "report":
            self.finished += 1
            return f"report collated: {event.get('sections')} sections, {event.get('words')} words"
        return None


def _detail(event: dict[str, Any]) -> str:
    if event.get("status") == "querying" and event.get("query"):
        return f" ({event['query']})"
    if event.get("status") == "searched" and "sources_found" in event:
        return f" ({event['sources_found']} new sources)"
    if "sources_total" in event:
        return f" ({event['sources_total']} sources)"
    return ""
