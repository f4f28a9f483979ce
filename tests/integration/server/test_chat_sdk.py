"""The research graph as a chat client sees it, through the real server and langgraph_sdk, unchanged.

What agent-chat-ui does, in Python: it sends a human message (content blocks, its own id), streams values,
messages-tuple and custom with subgraphs, lists its threads by `graph_id`, reads their history, and answers a plan
review in LangChain's human-in-the-loop format (or the older Agent Inbox's) through `command.resume`, with an empty
input beside the command. Scripted models (tests/support/server_providers.py); everything else is real.
"""

from __future__ import annotations

import json

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import UnprocessableEntityError

from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}
MODES = ["values", "messages-tuple", "custom"]


def human(text: str, id: str) -> dict:
    return {"id": id, "type": "human", "content": [{"type": "text", "text": text}]}


async def test_a_chat_message_streams_progress_messages_and_the_report(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    parts = [p async for p in client.runs.stream(
        thread["thread_id"], "nexa_research", input={"messages": [human(TOPIC, "ui-1")]}, context=QUICK,
        stream_mode=MODES, stream_subgraphs=True, stream_resumable=True,
    )]
    assert not [p.data for p in parts if p.event == "error"]
    streamed = [p.data[0] for p in parts if p.event.startswith("messages")]
    assert all(p.event == "messages" for p in parts if p.event.startswith("messages")), "no model tokens from branches"
    ids = [m["id"] for m in streamed]
    assert sorted(ids) == sorted(["ui-1-plan", *(f"ui-1-section-{i}" for i in range(len(TITLES))), "ui-1-report"])
    plan = streamed[ids.index("ui-1-plan")]
    assert plan["type"] == "ai" and plan["content"].startswith(f"Planned {len(TITLES)} sections: 1. {TITLES[0]}")
    assert {m["content"].split(",")[0] for m in streamed if "-section-" in m["id"]} == {
        f"Section {i + 1} done" for i in range(len(TITLES))}
    progress = [p.data for p in parts if p.event.split("|")[0] == "custom"]  # "custom|<branch>" with subgraphs
    assert {e["title"] for e in progress if e.get("kind") == "section_progress"} == set(TITLES)

    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["topic"] == TOPIC and final["messages"][0]["id"] == "ui-1"
    report = final["messages"][-1]
    assert report["id"] == "ui-1-report" and report["type"] == "ai"
    assert report["content"].startswith(f"# {final['report']['title']}") and "## Bibliography" in report["content"]
    assert all(f"## {i + 1}. {t}" in report["content"] for i, t in enumerate(TITLES))

    # what agent-chat-ui reads when it opens the thread later
    found = await client.threads.search(metadata={"graph_id": "nexa_research"}, limit=100)
    listed = next(t for t in found if t["thread_id"] == thread["thread_id"])
    assert listed["status"] == "idle" and [m["id"] for m in listed["values"]["messages"]][-1] == "ui-1-report"
    history = await client.threads.get_history(thread["thread_id"], limit=10)
    assert history[0]["values"]["messages"] == final["messages"]

    # a follow-up message researches the new topic in the same thread
    again = await client.runs.wait(thread["thread_id"], "nexa_research",
                                   input={"messages": [human("Movable type", "ui-2")]}, context=QUICK)
    assert again["topic"] == "Movable type" and again["report"]["topic"] == "Movable type"
    assert [m["id"] for m in again["messages"]][len(ids) + 1:][:2] == ["ui-2", "ui-2-plan"]
    assert again["messages"][-1]["id"] == "ui-2-report" and len(again["steps"]) == len(final["steps"])


async def test_plan_review_answered_in_the_chat_inbox_formats(nexa_server):
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    review = {**QUICK, "review_plan": True}
    paused = [p async for p in client.runs.stream(
        thread["thread_id"], "nexa_research", input={"messages": [human(TOPIC, "ui-3")]}, context=review,
        stream_mode=MODES,
    )]
    interrupt = [p.data["__interrupt__"] for p in paused if p.event == "values" and "__interrupt__" in p.data][-1][0]
    request = interrupt["value"]
    action = request["action_requests"][0]
    assert request["review_configs"] == [{"action_name": action["name"], "allowed_decisions": ["approve", "edit", "reject"]}]
    assert [p["title"] for p in action["args"]["paragraphs"]] == TITLES
    state = await client.threads.get_state(thread["thread_id"])
    assert [m["id"] for m in state["values"]["messages"]] == ["ui-3", "ui-3-plan"]
    assert state["tasks"][0]["interrupts"][0]["value"]["action_requests"] == request["action_requests"]
    assert (await client.threads.get(thread["thread_id"]))["status"] == "interrupted"

    # agent-chat-ui: the edited arguments come back as the text typed in the form, beside an empty input
    edited = action["args"]["paragraphs"][:3]
    decision = {"type": "edit", "edited_action": {"name": action["name"], "args": {"paragraphs": json.dumps(edited)}}}
    resumed = [p async for p in client.runs.stream(
        thread["thread_id"], "nexa_research", input={}, command={"resume": {"decisions": [decision]}},
        stream_mode=MODES,
    )]
    final = [p.data for p in resumed if p.event == "values"][-1]
    assert [s["title"] for s in final["report"]["sections"]] == TITLES[:3]
    messages = {m["id"]: m["content"] for m in final["messages"]}
    assert messages["ui-3-review"] == "Plan edited; researching 3 sections."
    assert messages["ui-3-plan"].startswith("Planned 3 sections:") and final["messages"][-1]["id"] == "ui-3-report"

    # the older Agent Inbox answers with a list of responses
    other = await client.threads.create()
    await client.runs.wait(other["thread_id"], "nexa_research", input={"messages": [human(TOPIC, "ui-4")]},
                           context=review)
    done = await client.runs.wait(other["thread_id"], "nexa_research",
                                  command={"resume": [{"type": "accept", "args": None}]})
    assert [s["title"] for s in done["report"]["sections"]] == TITLES
    rejected = await client.threads.create()
    await client.runs.wait(rejected["thread_id"], "nexa_research", input={"topic": TOPIC}, context=review)
    ended = await client.runs.wait(rejected["thread_id"], "nexa_research",
                                   command={"resume": [{"type": "response", "args": "Only Europe, please"}]})
    assert ended.get("report") is None and ended["plan_rejection"] == "Only Europe, please"
    assert ended["messages"][-1]["content"].startswith("Plan rejected: Only Europe, please.")
    assert (await client.threads.get(rejected["thread_id"]))["status"] == "idle"


async def test_an_input_without_a_topic_is_refused_naming_the_field(nexa_server):
    client = get_client(url=nexa_server.url)
    with pytest.raises(UnprocessableEntityError) as refused:
        await client.runs.create(None, "nexa_research", input={"messages": [{"type": "ai", "content": "hello"}]})
    assert "input.messages: no human message" in str(refused.value)
    with pytest.raises(UnprocessableEntityError) as refused:
        await client.runs.create(None, "nexa_research", input={"messages": [human("  ", "ui-5")]})
    assert "input.messages[0].content: must not be empty" in str(refused.value)
