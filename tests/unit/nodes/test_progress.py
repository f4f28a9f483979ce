"""Progress events on the `custom` stream: a plan first, then every section's steps in order, then the report."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from langgraph.runtime import Runtime

from nexa_research import build_graph
from nexa_research.nodes.progress import emit, section_progress
from nexa_research.nodes.query import make_generate_query_node
from nexa_research.providers import InMemorySearch
from nexa_research.state import new_paragraph
from support.scripted_models import providers_for, reflection_always

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]
TOPIC = "The printing press"
STEPS = re.compile(r"(querying searched( reflected)? )+(done|missing)")


async def custom_events(providers, *, subgraphs: bool, **knobs: Any) -> list[dict[str, Any]]:
    graph = build_graph(providers)
    config = {"configurable": {"thread_id": "progress", **knobs}}
    stream = graph.astream({"topic": TOPIC}, config, stream_mode="custom", subgraphs=subgraphs)
    return [chunk[1] if subgraphs else chunk async for chunk in stream]


def by_section(events: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    sections: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        if event["kind"] == "section_progress":
            sections.setdefault(event["section"], []).append(event)
    return sections


@pytest.mark.parametrize("sufficient", [True, False])
async def test_every_section_reports_its_steps_in_order(sufficient):
    providers = providers_for(TITLES, reflection=reflection_always(sufficient=sufficient))
    events = await custom_events(providers, subgraphs=True, max_iterations=2)
    json.dumps(events)  # JSON-safe, as a server sends them
    assert events[0] == {"kind": "plan", "title": "The Printing Press", "sections": TITLES}
    assert events[-1]["kind"] == "report" and events[-1]["sections"] == len(TITLES) and events[-1]["words"] > 0
    sections = by_section(events)
    assert sorted(sections) == list(range(len(TITLES)))
    for index, steps in sections.items():
        assert {e["title"] for e in steps} == {TITLES[index]}
        statuses = " ".join(e["status"] for e in steps)
        assert STEPS.fullmatch(statuses), statuses
        assert statuses == ("querying searched reflected done" if sufficient else
                            "querying searched reflected querying searched done")
        queries = [e for e in steps if e["status"] == "querying"]
        searches = [e for e in steps if e["status"] == "searched"]
        assert [(q["query"], q["iteration"]) for q in queries] == [(s["query"], s["iteration"]) for s in searches]
        assert [q["iteration"] for q in queries] == list(range(1, len(queries) + 1))
        assert searches[0]["sources_found"] > 0  # a later round may find nothing new, which ends the loop
        assert searches[-1]["sources_total"] == sum(s["sources_found"] for s in searches)
        reflected = next(e for e in steps if e["status"] == "reflected")
        assert reflected["sufficient"] is sufficient and reflected["iteration"] == 1
        assert reflected["missing"] == ([] if sufficient else ["more detail"])
        done = steps[-1]
        assert done["sources_total"] == searches[-1]["sources_total"] and done["words"] > 0


async def test_a_section_without_sources_ends_missing_with_the_reason():
    providers = providers_for(TITLES, search=InMemorySearch([]))
    events = await custom_events(providers, subgraphs=True, max_iterations=2)
    for index, steps in by_section(events).items():
        assert [e["status"] for e in steps] == ["querying", "searched", "missing"]
        searched, missing = steps[1], steps[2]
        assert searched["sources_found"] == searched["sources_total"] == 0
        assert missing["sources_total"] == 0 and "no on-topic sources found" in missing["error"]
        assert missing["title"] == TITLES[index]


async def test_without_subgraphs_the_stream_carries_the_top_level_events_only():
    """LangGraph keeps a subgraph's custom events to its own namespace unless the caller streams with
    subgraphs=True (langgraph PR #4843); the section branches are a subgraph, so only plan and report surface."""
    events = await custom_events(providers_for(TITLES), subgraphs=False, max_iterations=1)
    assert [e["kind"] for e in events] == ["plan", "report"]


async def test_a_run_without_streaming_is_unchanged():
    graph = build_graph(providers_for(TITLES))
    result = await graph.ainvoke({"topic": TOPIC}, {"configurable": {"thread_id": "plain", "max_iterations": 2}})
    assert [s["title"] for s in result["report"]["sections"]] == TITLES
    assert {s["status"] for s in result["report"]["sections"]} == {"done"}


async def test_events_outside_a_run_are_dropped():
    emit({"kind": "plan", "title": "t", "sections": []})
    paragraph = new_paragraph(0, "Gutenberg press origins", "What is known.", ["What?", "Why?"])
    section_progress(paragraph, "querying", query="q", iteration=1)
    node = make_generate_query_node(providers_for(TITLES))
    state = {"topic": TOPIC, "paragraph": paragraph, "pending_query": "Gutenberg press history"}
    update = await node(state, {"configurable": {}}, Runtime(context=None))
    assert update["paragraph"]["queries"] == ["Gutenberg press history"]
