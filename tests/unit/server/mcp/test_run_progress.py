"""A run's custom events as MCP progress: the value grows at every notification and reaches the total at the end."""

from __future__ import annotations

import json

from nexa_research.server.mcp.run_progress import RunProgress


def event(**fields) -> str:
    return json.dumps(fields)


def section(index: int, title: str, status: str, **extra) -> str:
    return event(kind="section_progress", section=index, title=title, status=status, **extra)


def test_progress_grows_at_every_event_and_ends_at_the_total():
    progress = RunProgress()
    events = [
        event(kind="plan", title="Report", sections=["A", "B"]),
        section(0, "A", "querying", query="a facts"),
        section(1, "B", "querying", query="b facts"),
        section(0, "A", "searched", sources_found=3),
        section(0, "A", "reflected", sufficient=True),
        section(0, "A", "done", sources_total=3),
        section(1, "B", "searched", sources_found=0),
        section(1, "B", "missing", sources_total=0),
        event(kind="report", sections=2, words=900, sources=3),
    ]
    notes = [progress.on_event(e) for e in events]
    assert all(n is not None for n in notes)
    values = [n.progress for n in notes]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert [n.progress for n in notes if n.message.endswith(("done (3 sources)", "missing (0 sources)"))] == [2, 3]
    assert notes[0].message == "planned 2 sections: A; B" and notes[0].total == 4
    assert notes[1].message == "section 0 'A': querying (a facts)"
    assert notes[3].message == "section 0 'A': searched (3 new sources)"
    assert notes[-1].progress == notes[-1].total == 4 and notes[-1].message == "report collated: 2 sections, 900 words"


def test_steps_within_a_section_never_reach_the_next_unit_and_other_chunks_are_ignored():
    progress = RunProgress()
    progress.on_event(event(kind="plan", sections=["A"]))
    steps = [progress.on_event(section(0, "A", "reflected")) for _ in range(150)]
    sent = [s.progress for s in steps if s is not None]
    assert sent and max(sent) < 2 and len(sent) < 150, "past 99 steps in one unit, nothing more is sent"
    assert progress.on_event("not json") is None and progress.on_event(event(kind="other")) is None
    assert progress.on_event(json.dumps([1, 2])) is None
