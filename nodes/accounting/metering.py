"""Cost records per node execution: wall time, and tokens per model call, kept in state for report metadata."""

from __future__ import annotations

import time
from typing import Any

from nexa_research.state import StepRecord


class StepMeter:
    """Started when a node starts; `record()` gives the StepRecord the node returns under `steps`."""

    def __init__(self, node: str, paragraph: int | None = None) -> None:
        self.node = node
        self.paragraph = paragraph
        self.started = time.perf_counter()
        self.role: str | None = None
        self.model: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.cache: str | None = None

    def add_call(self, role: str, model: str, message: Any) -> None:
        """Count one model call; messages without usage metadata (some fakes, some servers) count as zero."""
        self.role = role
        self.model = model
        usage = getattr(message, "usage_metadata", None) or {}
        self.input_tokens += int(usage.get("input_tokens", 0) or 0)
        self.output_tokens += int(usage.get("output_tokens", 0) or 0)

    def record(self) -> list[StepRecord]:
        record = StepRecord(
            node=self.node,
            paragraph=self.paragraph,
            seconds=round(time.perf_counter() - self.started, 4),
            role=self.role,
            model=self.model,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )
        if self.cache is not None:
            record["cache"] = self.cache
        return [record]
