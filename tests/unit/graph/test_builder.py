"""The research graph end to end on scripted models and the in-memory backend: fan-out, loop cap, report shape."""

from __future__ import annotations

import asyncio
import re

import pytest

from nexa_research import Report, aresearch
from nexa_research.providers import InMemorySearch, make_source
from support.scripted_models import corpus_for, providers_for, reflection_always

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy", "Scientific revolution role"]


class BarrierSearch(InMemorySearch):
    """Each first search waits until every branch has started one: passes only if branches overlap."""

    def __init__(self, docs, expected: int) -> None:
        super().__init__(docs)
        self.expected = expected
        self.active = 0
        self.max_active = 0
        self.arrived = 0
        self.all_arrived = asyncio.Event()
        self.queries: list[str] = []

    async def search(self, query, k, filters=None):
        self.queries.append(query)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self.arrived += 1
        if self.arrived >= self.expected:
            self.all_arrived.set()
        try:
            await asyncio.wait_for(self.all_arrived.wait(), timeout=10)
            return await super().search(query, k, filters)
        finally:
            self.active -= 1


async def test_fan_out_runs_one_branch_per_paragraph_concurrently():
    search = BarrierSearch(corpus_for(TITLES), expected=len(TITLES))
    providers = providers_for(TITLES, search=search)
    report = await aresearch("The printing press", providers=providers, max_iterations=1, max_sections=4)
    assert [s.title for s in report.sections] == TITLES
    assert search.max_active == len(TITLES), "branches did not overlap"
    assert len(search.queries) == len(TITLES)
    assert all(s.status == "done" for s in report.sections)


class EndlessSearch:
    """Every query finds something new, so nothing but the cap can end the loop."""

    name = "endless"

    def __init__(self) -> None:
        self.calls = 0

    async def search(self, query, k, filters=None):
        self.calls += 1
        return [make_source(url=f"https://example.org/{self.calls}", title=f"Result {self.calls}", text=f"About {query}.")]


@pytest.mark.parametrize("cap", [1, 2, 3])
async def test_loop_never_exceeds_max_iterations(cap):
    search = EndlessSearch()
    reflection = reflection_always(sufficient=False)
    providers = providers_for(TITLES[:3], reflection=reflection, search=search)
    report = await aresearch("The printing press", providers=providers, max_iterations=cap)
    for section in report.sections:
        assert section.iterations == cap
        assert len(section.queries) == cap
        assert section.stop_reason == "iteration_cap"
    # reflection is not asked after the last allowed round: the cap is code, not a prompt
    assert len(reflection.calls) == 3 * (cap - 1)
    assert search.calls == 3 * cap


async def test_loop_stops_early_when_reflection_is_satisfied():
    providers = providers_for(TITLES[:3], reflection=reflection_always(sufficient=True))
    report = await aresearch("The printing press", providers=providers, max_iterations=3)
    assert {s.iterations for s in report.sections} == {1}
    assert {s.stop_reason for s in report.sections} == {"sufficient"}


async def test_repeated_query_ends_the_loop():
    import json

    from support.scripted_models import ScriptedChatModel

    same = ScriptedChatModel(respond=lambda m: json.dumps({"sufficient": False, "gaps": ["more detail"], "next_query": "Gutenberg press origins facts"}))
    providers = providers_for(TITLES[:3], reflection=same)
    report = await aresearch("The printing press", providers=providers, max_iterations=3)
    first = report.sections[0]
    assert first.iterations == 1 and first.stop_reason == "repeated_query"


async def test_empty_search_ends_the_loop_and_no_sources_means_missing():
    providers = providers_for(TITLES[:3], reflection=reflection_always(sufficient=False), search=InMemorySearch([]))
    report = await aresearch("The printing press", providers=providers, max_iterations=3)
    for section in report.sections:
        assert section.status == "missing"
        assert section.iterations == 1
        assert "no on-topic sources found" in section.error


async def test_report_shape_and_metadata():
    report = await aresearch("The printing press", providers=providers_for(TITLES[:3]), max_iterations=2)
    assert report.title == "The Printing Press"
    assert report.executive_summary and report.introduction and report.conclusion
    # the editor's sentence about the report itself is not printed (graph/kernel/self_reference.py)
    assert report.introduction == "The topic matters to readers across Europe [1]."
    assert len(report.sections) == 3 and report.bibliography
    meta = report.metadata
    assert set(meta.prompt_versions) == {"planner", "query_writer", "reflection", "synthesizer", "synthesizer_lead", "collator"}
    assert all(re.fullmatch(r"[0-9a-f]{12}", v) for v in meta.prompt_versions.values())
    assert meta.models["planner"] == ["planner-fake"]
    assert meta.models_used["synthesizer"] == ["synth-fake"]
    assert meta.iterations == {t: 1 for t in TITLES[:3]}
    assert {"plan", "generate_query", "search", "reflect", "synthesize", "collate"} <= set(meta.timings)
    assert meta.token_usage["synthesizer"]["input_tokens"] == 30  # 3 sections x 10 scripted tokens
    assert meta.thread_id
    md = report.to_markdown()
    assert md.startswith("# The Printing Press")
    assert "## Bibliography" in md and "## Executive summary" in md
    # every bibliography entry is a paragraph of its own, as a Markdown viewer renders it
    entries = md.split("## Bibliography\n\n")[1].strip().split("\n\n")
    assert [e.split("]")[0] for e in entries] == [f"[{n}" for n in range(1, len(report.bibliography) + 1)]
    assert all("\n" not in e for e in entries)


async def test_report_round_trips_through_json():
    report = await aresearch("The printing press", providers=providers_for(TITLES[:3]))
    again = Report.from_json(report.to_json())
    assert again == report
    assert again.to_markdown() == report.to_markdown()


def test_each_branch_carries_what_the_other_sections_are_about():
    """Branches research apart; the relevance gate ranks what another section is about after a section's own
    (nodes/checks/relevance.py), so each Send carries the plan's other sections."""
    from nexa_research.builder import dispatch_paragraphs
    from nexa_research.nodes.checks.relevance import section_text
    from nexa_research.state import new_paragraph

    paragraphs = [new_paragraph(i, t, f"About {t}.", ["?"]) for i, t in enumerate(TITLES[:3])]
    sends = dispatch_paragraphs({"topic": "The printing press", "paragraphs": list(reversed(paragraphs))})
    assert [s.arg["paragraph"]["title"] for s in sends] == TITLES[:3]
    for send, own in zip(sends, paragraphs, strict=True):
        assert send.arg["others"] == [section_text(p) for p in paragraphs if p is not own]
