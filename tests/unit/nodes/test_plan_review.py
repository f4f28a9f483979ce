"""Plan review: the run pauses after planning; approve, or resume with an edited plan; a bad edit asks again."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from nexa_research import PlanReviewPending, aresearch, build_graph
from support.scripted_models import providers_for

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]
EDITED = [
    {"title": "Movable type in Korea", "outline": "Metal movable type before Gutenberg.", "questions": ["Who made it?", "When was it used?"]},
    {"title": "Gutenberg press origins", "outline": "The workshop in Mainz and its press.", "questions": ["How did it work?", "What did it print?"]},
    {"title": "Effects on literacy", "outline": "How reading spread after printing.", "questions": ["Who learned to read?", "How fast was the change?"]},
    {"title": "Reformation pamphlets", "outline": "Printed pamphlets in the Reformation.", "questions": ["How many were printed?", "Who wrote them?"]},
]


async def test_approve_resumes_with_the_planned_sections():
    providers = providers_for(TITLES)
    saver = InMemorySaver()
    with pytest.raises(PlanReviewPending) as paused:
        await aresearch("The printing press", providers=providers, checkpointer=saver, review_plan=True)
    plan = paused.value.plan
    assert [p["title"] for p in plan["paragraphs"]] == TITLES
    assert providers._chat["synthesizer"].calls == []  # nothing researched before approval
    report = await aresearch(
        "The printing press", providers=providers, checkpointer=saver, review_plan=True,
        thread_id=paused.value.thread_id, resume="approve",
    )
    assert [s.title for s in report.sections] == TITLES
    assert len(providers._chat["planner"].calls) == 1  # the plan was not redone


async def test_resume_with_an_edited_plan_researches_the_edit():
    providers = providers_for(TITLES + ["Movable type in Korea", "Reformation pamphlets"])
    graph = build_graph(providers, InMemorySaver())
    cfg = {"configurable": {"thread_id": "edit-1", "review_plan": True}}
    first = await graph.ainvoke({"topic": "The printing press"}, cfg)
    assert first["__interrupt__"][0].value["kind"] == "plan_review"
    result = await graph.ainvoke(Command(resume={"action": "edit", "paragraphs": EDITED}), cfg)
    report = result["report"]
    assert [s["title"] for s in report["sections"]] == [p["title"] for p in EDITED]
    assert all(s["status"] == "done" for s in report["sections"])


async def test_an_invalid_edit_asks_again_with_the_reason_and_loses_nothing():
    providers = providers_for(TITLES)
    graph = build_graph(providers, InMemorySaver())
    cfg = {"configurable": {"thread_id": "edit-2", "review_plan": True}}
    await graph.ainvoke({"topic": "The printing press"}, cfg)
    again = await graph.ainvoke(Command(resume={"action": "edit", "paragraphs": EDITED[:1]}), cfg)
    request = again["__interrupt__"][0].value
    assert "1 sections; the plan must have between 3 and 7" in request["error"]
    bad_question = [dict(EDITED[0], questions=["only one question?"]), *EDITED[1:3]]
    again = await graph.ainvoke(Command(resume={"paragraphs": bad_question}), cfg)
    assert "paragraphs[0].questions" in again["__interrupt__"][0].value["error"]
    assert len(providers._chat["planner"].calls) == 1
    final = await graph.ainvoke(Command(resume="approve"), cfg)
    assert [s["title"] for s in final["report"]["sections"]] == TITLES
