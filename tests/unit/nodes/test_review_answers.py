"""Plan-review answers in every shape a client sends: this library's, agent-chat-ui's, the older Agent Inbox's."""

from __future__ import annotations

import json

import pytest

from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError
from nexa_research.nodes.review_answers import ReviewDecision, parse_review

CFG = ResearchConfig()
PLAN = [
    {"title": "Movable type in Korea", "outline": "Metal movable type before Gutenberg.", "questions": ["Who made it?", "When was it used?"]},
    {"title": "Gutenberg press origins", "outline": "The workshop in Mainz and its press.", "questions": ["How did it work?", "What did it print?"]},
    {"title": "Effects on literacy", "outline": "How reading spread after printing.", "questions": ["Who learned to read?", "How fast was the change?"]},
]
TITLES = [p["title"] for p in PLAN]


@pytest.mark.parametrize(
    "answer",
    [
        "approve", " OK ", True, {"action": "approve"},
        {"decisions": [{"type": "approve"}]},  # agent-chat-ui
        [{"type": "accept", "args": None}],  # Agent Inbox
    ],
)
def test_approvals(answer):
    assert parse_review(answer, CFG) == ReviewDecision()


@pytest.mark.parametrize(
    "answer",
    [
        {"action": "edit", "paragraphs": PLAN},
        {"paragraphs": PLAN},
        PLAN,
        {"decisions": [{"type": "edit", "edited_action": {"name": "research_plan", "args": {"paragraphs": PLAN}}}]},
        # a chat UI edits arguments as text: the plan comes back as the JSON the reviewer typed
        {"decisions": [{"type": "edit", "edited_action": {"name": "research_plan",
                                                           "args": {"paragraphs": json.dumps(PLAN, indent=1)}}}]},
        [{"type": "edit", "args": {"action": "research_plan", "args": {"paragraphs": json.dumps(PLAN)}}}],
    ],
)
def test_edits_become_the_plan(answer):
    decision = parse_review(answer, CFG)
    assert decision.rejection is None and decision.plan is not None
    assert [p["title"] for p in decision.plan] == TITLES
    assert [p["index"] for p in decision.plan] == [0, 1, 2] and all(p["status"] == "planned" for p in decision.plan)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"decisions": [{"type": "reject", "message": " Too broad; focus on Europe. "}]}, "Too broad; focus on Europe."),
        ([{"type": "ignore", "args": None}], ""),
        ([{"type": "response", "args": "Not what I meant"}], "Not what I meant"),
        ({"action": "reject", "reason": "wrong topic"}, "wrong topic"),
        ({"action": "reject"}, ""),
    ],
)
def test_rejections_carry_their_reason(answer, reason):
    assert parse_review(answer, CFG) == ReviewDecision(rejection=reason)


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"decisions": [{"type": "edit", "edited_action": {"name": "research_plan",
                                                           "args": {"paragraphs": "[{not json"}}}]}, "paragraphs: not valid JSON"),
        ({"decisions": [{"type": "edit", "edited_action": {"name": "research_plan"}}]}, "edited_action.args"),
        ({"decisions": [{"type": "edit", "edited_action": {"args": {"paragraphs": PLAN[:1]}}}]}, "paragraphs: 1 sections"),
        ({"decisions": [{"type": "maybe"}]}, "type: expected approve, edit or reject"),
        ({"decisions": []}, "decisions: expected a list"),
        ({"action": "postpone"}, "action: expected 'approve', 'edit' or 'reject'"),
        ([dict(PLAN[0], questions=["one?"]), *PLAN[1:]], "paragraphs[0].questions"),
        ("maybe later", "paragraphs: an edited plan must be a list"),
    ],
)
def test_unusable_answers_name_what_is_wrong(answer, field):
    with pytest.raises(ResearchInputError) as refused:
        parse_review(answer, CFG)
    assert str(refused.value).startswith(field)


async def test_a_library_caller_who_rejects_the_plan_gets_no_report_but_the_reason():
    from langgraph.checkpoint.memory import InMemorySaver

    from nexa_research import PlanReviewPending, aresearch
    from nexa_research.api import PlanRejected
    from support.scripted_models import providers_for

    providers, saver = providers_for(TITLES), InMemorySaver()
    with pytest.raises(PlanReviewPending) as paused:
        await aresearch("The printing press", providers=providers, checkpointer=saver, review_plan=True)
    with pytest.raises(PlanRejected) as rejected:
        await aresearch("The printing press", providers=providers, checkpointer=saver, review_plan=True,
                        thread_id=paused.value.thread_id, resume={"action": "reject", "reason": "wrong angle"})
    assert rejected.value.reason == "wrong angle" and providers._chat["synthesizer"].calls == []
