"""The research graph as a chat, on scripted models: topic from a message, progress and report as AI messages, the
plan review answered as agent-chat-ui answers it, a follow-up topic on a clean slate, and no model tokens in the
`messages` stream."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from nexa_research import build_graph
from nexa_research.providers import InMemorySearch
from nexa_research.providers.checkpoint_serializer import FastJsonRedisSerializer
from nexa_research.report import Report
from support.scripted_models import corpus_for, providers_for

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]
QUICK = {"max_iterations": 1}


def ui_message(text: str, id: str) -> dict:
    """A human message as agent-chat-ui sends it: content blocks, its own id."""
    return {"id": id, "type": "human", "content": [{"type": "text", "text": text}]}


def config(thread: str, **knobs) -> dict:
    return {"configurable": {"thread_id": thread, **QUICK, **knobs}}


async def test_a_chat_message_runs_the_research_and_the_chat_shows_plan_sections_and_report():
    graph = build_graph(providers_for(TITLES), InMemorySaver())
    result = await graph.ainvoke({"messages": [ui_message("The printing press", "ui-1")]}, config("chat-1"))
    assert result["topic"] == "The printing press" and result["report"]["topic"] == "The printing press"
    messages = result["messages"]
    assert [m.id for m in messages[:2]] == ["ui-1", "ui-1-plan"] and messages[-1].id == "ui-1-report"
    assert isinstance(messages[0], HumanMessage) and all(isinstance(m, AIMessage) for m in messages[1:])
    assert messages[1].content == "Planned 3 sections: 1. Gutenberg press origins, 2. Spread across Europe, 3. Effects on literacy"
    sections = sorted(m.content for m in messages[2:-1])
    assert [m.split(",")[0] for m in sections] == ["Section 1 done", "Section 2 done", "Section 3 done"]
    assert {m.id for m in messages[2:-1]} == {"ui-1-section-0", "ui-1-section-1", "ui-1-section-2"}
    assert messages[-1].content == Report.model_validate(result["report"]).to_markdown()


async def test_the_messages_stream_carries_the_nodes_messages_and_no_model_output():
    """Internal model calls (planner JSON, queries, reflections, drafts) would flood a chat with JSON."""
    graph = build_graph(providers_for(TITLES), InMemorySaver())
    streamed = [
        chunk async for _, chunk in graph.astream(
            {"messages": [ui_message("The printing press", "ui-2")]}, config("chat-2"),
            stream_mode="messages", subgraphs=True,
        )
    ]
    ids = [message.id for message, _ in streamed]
    assert sorted(ids) == sorted(["ui-2-plan", "ui-2-section-0", "ui-2-section-1", "ui-2-section-2", "ui-2-report"])
    assert not [m for m, _ in streamed if m.content.lstrip().startswith("{")]


async def test_a_topic_sent_as_topic_reads_as_a_chat_too():
    graph = build_graph(providers_for(TITLES), InMemorySaver())
    result = await graph.ainvoke({"topic": "The printing press"}, config("chat-3"))
    first = result["messages"][0]
    assert (first.type, first.content, first.id) == ("human", "The printing press", "topic-0")
    assert result["messages"][-1].id == "topic-0-report"


async def test_a_follow_up_message_researches_the_new_topic_from_a_clean_slate():
    providers = providers_for(TITLES)
    graph = build_graph(providers, InMemorySaver())
    first = await graph.ainvoke({"messages": [ui_message("The printing press", "ui-a")]}, config("chat-4"))
    second = await graph.ainvoke({"messages": [ui_message("Movable type", "ui-b")]}, config("chat-4"))
    assert second["topic"] == "Movable type" and second["report"]["topic"] == "Movable type"
    assert "Movable type" in str(providers._chat["planner"].calls[-1][-1].content)
    # nothing of the first research carries over: cost records and sources are this run's only
    assert len(second["steps"]) == len(first["steps"]) and len(second["sources"]) == len(first["sources"])
    assert len(second["paragraphs"]) == len(TITLES)
    ids = [m.id for m in second["messages"]]
    assert len(ids) == len(set(ids)) == 2 * (len(TITLES) + 3)
    assert ids[len(TITLES) + 3:][:2] == ["ui-b", "ui-b-plan"] and ids[-1] == "ui-b-report"
    assert ids.count("ui-a-report") == 1


async def test_plan_review_in_the_chat_inbox_format_edited_as_text():
    search = InMemorySearch(corpus_for([*TITLES, "Movable type in Korea"]))
    graph = build_graph(providers_for(TITLES, search=search), InMemorySaver())
    cfg = config("chat-5", review_plan=True)
    paused = await graph.ainvoke({"messages": [ui_message("The printing press", "ui-5")]}, cfg)
    request = paused["__interrupt__"][0].value
    action = request["action_requests"][0]
    assert action["name"] == request["review_configs"][0]["action_name"] == "research_plan"
    assert request["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    assert [p["title"] for p in action["args"]["paragraphs"]] == TITLES == [p["title"] for p in request["paragraphs"]]
    assert request["action_request"]["args"] == action["args"] and request["config"]["allow_edit"] is True
    assert [m.id for m in paused["messages"]] == ["ui-5", "ui-5-plan"]  # the plan shows before the pause

    edited = [dict(p, title=t) for p, t in zip(action["args"]["paragraphs"], ["Movable type in Korea", *TITLES[1:]], strict=True)]
    bad = {"decisions": [{"type": "edit", "edited_action": {"name": "research_plan", "args": {"paragraphs": "[{oops"}}}]}
    again = await graph.ainvoke(Command(resume=bad), cfg)
    assert "paragraphs: not valid JSON" in again["__interrupt__"][0].value["action_requests"][0]["description"]
    good = {"decisions": [{"type": "edit", "edited_action": {"name": "research_plan",
                                                             "args": {"paragraphs": json.dumps(edited)}}}]}
    done = await graph.ainvoke(Command(resume=good), cfg)
    assert [s["title"] for s in done["report"]["sections"]] == ["Movable type in Korea", *TITLES[1:]]
    messages = {m.id: m.content for m in done["messages"]}
    assert messages["ui-5-plan"].startswith("Planned 3 sections: 1. Movable type in Korea")  # replaced, not added
    assert messages["ui-5-review"] == "Plan edited; researching 3 sections."
    assert len(done["messages"]) == len(messages) == 3 + len(TITLES) + 1


async def test_a_rejected_plan_ends_the_run_and_the_next_message_plans_again():
    providers = providers_for(TITLES)
    graph = build_graph(providers, InMemorySaver())
    cfg = config("chat-6", review_plan=True)
    await graph.ainvoke({"messages": [ui_message("The printing press", "ui-6")]}, cfg)
    ended = await graph.ainvoke(Command(resume={"decisions": [{"type": "reject", "message": "Too broad"}]}), cfg)
    assert ended["plan_rejection"] == "Too broad" and not ended.get("report") and "__interrupt__" not in ended
    assert ended["messages"][-1].content == "Plan rejected: Too broad. No research was done; send a new topic to plan again."
    assert providers._chat["synthesizer"].calls == []
    assert (await graph.aget_state(cfg)).next == ()
    again = await graph.ainvoke({"messages": [ui_message("Printing in Europe", "ui-7")]}, cfg)
    assert again["__interrupt__"][0].value["topic"] == "Printing in Europe" and again["plan_rejection"] is None
    done = await graph.ainvoke(Command(resume=[{"type": "accept", "args": None}]), cfg)  # the older Agent Inbox
    assert [s["title"] for s in done["report"]["sections"]] == TITLES
    assert {m.id: m.content for m in done["messages"]}["ui-7-review"] == "Plan approved; researching 3 sections."


def test_messages_survive_the_redis_checkpoint_serializer():
    serde = FastJsonRedisSerializer()
    messages = [HumanMessage([{"type": "text", "text": "The printing press"}], id="ui-1"),
                AIMessage("Planned 3 sections: 1. A, 2. B, 3. C", id="ui-1-plan")]
    restored = serde.loads_typed(serde.dumps_typed({"messages": messages, "topic": "The printing press"}))
    assert restored["messages"] == messages and [type(m) for m in restored["messages"]] == [HumanMessage, AIMessage]
