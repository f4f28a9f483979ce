"""A structured answer that breaks its schema never ends a run: bounds are repaired in code, the rest re-asked."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ConfigDict, Field

from nexa_research import aresearch
from nexa_research.errors import StructuredOutputError
from nexa_research.providers import InMemorySearch, StaticProviders
from nexa_research.providers.llm.schema_repair import shorten, validate_or_repair
from support.scripted_models import (
    ScriptedChatModel,
    cite_all_synthesizer,
    collator,
    corpus_for,
    plan_json,
    planner_for,
    query_writer,
    reflection_always,
)

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=60)
    tags: list[str] = Field(max_length=2)


def test_over_long_string_is_cut_at_a_sentence_boundary():
    fixed = validate_or_repair({"text": "First sentence here. Second sentence is long enough to overflow.", "tags": []}, Part)
    assert fixed.text == "First sentence here."
    assert shorten("one two three four five", 12) == "one two"


def test_over_long_list_is_cut_and_unknown_keys_dropped():
    fixed = validate_or_repair({"text": "ok", "tags": ["a", "b", "c"], "extra": 1}, Part)
    assert fixed.tags == ["a", "b"]


def test_a_missing_field_is_not_guessed():
    with pytest.raises(StructuredOutputError, match="tags"):
        validate_or_repair({"text": "ok"}, Part)


@pytest.fixture(autouse=True)
def no_checkpoints(monkeypatch):
    monkeypatch.setenv("NEXA_CHECKPOINTER", "none")


def providers(**chat):
    roles = {
        "planner": planner_for(TITLES),
        "query_writer": query_writer(),
        "reflection": reflection_always(sufficient=True),
        "synthesizer": cite_all_synthesizer(),
        "collator": collator(),
        **chat,
    }
    return StaticProviders(chat=roles, search=InMemorySearch(corpus_for(TITLES)))


async def run(p):
    return await aresearch("The printing press", providers=p, use_cache=False, max_iterations=1, provider_retries=0)


async def test_planner_answer_with_too_many_questions_is_repaired():
    plan = json.loads(plan_json(TITLES))
    for p in plan["paragraphs"]:
        p["questions"] = [f"Question number {i} about {p['title']}?" for i in range(6)]
    planner = ScriptedChatModel(respond=lambda m: json.dumps(plan))
    report = await run(providers(planner=planner))
    assert len(planner.calls) == 1 and [s.title for s in report.sections] == TITLES


async def test_query_writer_answer_over_its_length_is_repaired():
    long_query = "printing press " + "history " * 60
    writer = ScriptedChatModel(respond=lambda m: json.dumps({"query": long_query}))
    report = await run(providers(query_writer=writer))
    assert all(len(s.queries[0]) <= 200 for s in report.sections)
    assert len(writer.calls) == len(TITLES)


async def test_reflection_with_too_many_gaps_is_repaired():
    def respond(messages):
        return json.dumps({"sufficient": True, "gaps": [f"gap {i} detail" for i in range(6)], "next_query": ""})

    reflection = ScriptedChatModel(respond=respond)
    report = await run(providers(reflection=reflection))
    assert all(s.status == "done" for s in report.sections)


async def test_malformed_reflection_is_asked_again_with_the_reason():
    answers = iter(["{not json", json.dumps({"sufficient": True, "gaps": [], "next_query": ""})] * len(TITLES))
    reflection = ScriptedChatModel(respond=lambda m: next(answers))
    await aresearch("The printing press", providers=providers(reflection=reflection), use_cache=False, max_iterations=2,
                    provider_retries=0)
    retried = [c for c in reflection.calls if "was rejected" in str(c[-1].content)]
    assert retried and "expected a JSON object" in str(retried[0][-1].content)


async def test_collator_summary_over_2000_characters_is_repaired_not_fatal():
    long_summary = " ".join(f"Finding number {i} about the press is stated here [1]." for i in range(60))

    def respond(messages):
        return json.dumps({"executive_summary": long_summary, "introduction": "This report covers the printing press.",
                           "transitions": [], "conclusion": "The press changed how knowledge moved in Europe."})

    report = await run(providers(collator=ScriptedChatModel(respond=respond)))
    assert 20 < len(report.executive_summary) <= 2000 and report.executive_summary.startswith("Finding number 0")
    assert not any("collator model failed" in w for w in report.metadata.warnings)
