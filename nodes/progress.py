"""Progress events on LangGraph's `custom` stream: what a client streaming with stream_mode="custom" sees.

Nodes report each step of a section (querying, searched, reflected, done or missing), the accepted plan and the
assembled report as small JSON-safe dicts. Inside a graph run that does not stream `custom`, LangGraph's writer
is already a no-op; but `get_stream_writer()` raises outside a runnable context (a node called directly in a
unit test, or from a script), so `emit` falls back to dropping the event: progress must never fail research.
"""

from __future__ import annotations

from typing import Any

from langgraph.config import get_stream_writer
from langgraph.types import StreamWriter

from nexa_research.state import Paragraph


def _drop(event: Any) -> None:
    return None


def stream_writer() -> StreamWriter:
    """The run's custom-stream writer, or a no-op when there is no run (no config, or a config without a runtime)."""
    try:
        return get_stream_writer()
    except (RuntimeError, KeyError):
        return _drop


def emit(event: dict[str, Any]) -> None:
    stream_writer()(event)


def section_progress(paragraph: Paragraph, status: str, **fields: Any) -> None:
    """One step of one section: {"kind": "section_progress", "section", "title", "status", **fields}."""
    emit({"kind": "section_progress", "section": paragraph["index"], "title": paragraph["title"], "status": status,
          **fields})
