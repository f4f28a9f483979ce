"""The research as a chat: the topic read from what chat clients send, the slate a new topic starts from, the messages."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.types import Overwrite

from nexa_research.errors import ResearchInputError
from nexa_research.nodes.chat_messages import (
    begin_research,
    content_text,
    plan_message,
    report_message,
    section_message,
    topic_of_input,
)
from nexa_research.report import BibliographyEntry, Report, ReportMetadata, ReportSection
from nexa_research.state import new_paragraph


def test_the_topic_is_the_last_human_message_in_any_shape_a_client_sends():
    ui = {"messages": [{"id": "m1", "type": "human", "content": [{"type": "text", "text": "  The printing  press "}]}]}
    assert topic_of_input(ui) == "The printing press"
    chat = {"messages": [{"role": "user", "content": "Old topic"}, {"type": "ai", "content": "Done."},
                         {"type": "human", "content": "Jazz in New Orleans"}]}
    assert topic_of_input(chat) == "Jazz in New Orleans"
    assert topic_of_input({"topic": "Volcanoes"}) == "Volcanoes"
    assert topic_of_input({"topic": "Ignored", "messages": [{"type": "human", "content": "Wins"}]}) == "Wins"
    assert content_text([{"type": "image_url", "image_url": "x"}, {"type": "text", "text": "a"}, "b"]) == "a\nb"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "topic: give a topic"),
        ({"messages": []}, "topic: give a topic"),
        ({"messages": [{"type": "ai", "content": "hello"}]}, "messages: no human message"),
        ({"messages": [{"type": "human", "content": "   "}]}, "messages[0].content: must not be empty"),
        ({"messages": [{"type": "human", "content": [{"type": "image_url", "image_url": "x"}]}]}, "messages[0].content"),
        ({"messages": "The printing press"}, "messages: expected a list"),
        ({"topic": 3}, "topic: expected a string"),
        ("The printing press", "input: expected an object"),
    ],
)
def test_an_unusable_input_is_refused_naming_the_field(payload, field):
    with pytest.raises(ResearchInputError) as refused:
        topic_of_input(payload)
    assert str(refused.value).startswith(field)


def test_a_first_chat_message_starts_research_on_its_text_and_answers_under_its_id():
    update = begin_research({"messages": [HumanMessage("The printing press", id="h1")]})
    assert update == {"topic": "The printing press", "ask_id": "h1", "plan_rejection": None}


def test_a_topic_without_a_chat_becomes_the_human_message_the_chat_shows():
    update = begin_research({"topic": "The printing press", "messages": []})
    assert update["ask_id"] == "topic-0" and update["topic"] == "The printing press"
    assert [(m.type, m.content, m.id) for m in update["messages"]] == [("human", "The printing press", "topic-0")]


def _finished_thread() -> dict:
    paragraph = new_paragraph(0, "Gutenberg", "The workshop in Mainz.", ["Who?", "When?"])
    return {
        "topic": "The printing press", "ask_id": "h1", "title": "The Printing Press",
        "messages": [HumanMessage("The printing press", id="h1"), AIMessage("report", id="h1-report")],
        "paragraphs": [paragraph], "sources": [{"id": "s1"}], "steps": [{"node": "plan"}],
        "report": {"title": "x"}, "topic_cut": 0.4, "subject": {"names": ["Gutenberg"]}, "plan_rejection": None,
    }


def test_a_follow_up_message_starts_a_new_research_on_a_clean_slate():
    state = _finished_thread()
    state["messages"].append(HumanMessage([{"type": "text", "text": "Jazz in New Orleans"}], id="h2"))
    update = begin_research(state)
    assert update["topic"] == "Jazz in New Orleans" and update["ask_id"] == "h2"
    for channel in ("paragraphs", "sources", "steps"):  # their reducers merge: only an Overwrite empties them
        assert isinstance(update[channel], Overwrite) and update[channel].value == []
    assert update["report"] is None and update["topic_cut"] is None and update["subject"] is None
    assert "messages" not in update  # the chat is kept; the human message is already in it


def test_a_new_topic_on_a_chat_thread_is_asked_as_a_new_human_message():
    state = {**_finished_thread(), "topic": "Volcanoes"}  # {"topic": "Volcanoes"} sent to the finished thread
    update = begin_research(state)
    assert update["topic"] == "Volcanoes" and update["ask_id"] == "topic-2"
    assert update["messages"][0].content == "Volcanoes" and update["paragraphs"].value == []


def test_messages_say_the_plan_each_section_and_the_whole_report_under_stable_ids():
    paragraphs = [new_paragraph(i, t, "Outline of it.", ["Q one?", "Q two?"]) for i, t in enumerate(["Origins", "Spread"])]
    assert plan_message("h1", paragraphs).content == "Planned 2 sections: 1. Origins, 2. Spread"
    assert plan_message("h1", paragraphs).id == "h1-plan"
    done = {**paragraphs[1], "status": "done", "research": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]}
    assert section_message("h1", done).content == "Section 2 done, 4 sources: Spread"
    missing = {**paragraphs[0], "status": "missing", "error": "no sources found"}
    assert section_message("h1", missing).content == "Section 1 missing: Origins (no sources found)"
    assert section_message("h1", missing).id == "h1-section-0"
    report = Report(
        title="The Printing Press", topic="The printing press", executive_summary="Summary [1].",
        introduction="Intro.", conclusion="End.",
        sections=[ReportSection(index=0, title="Origins", content="Mainz [1].", status="done")],
        bibliography=[BibliographyEntry(number=1, url="https://example.org/a", title="Source A")],
        metadata=ReportMetadata(topic="The printing press", created_at="2026-01-01T00:00:00Z"),
    )
    message = report_message("h1", report.model_dump(mode="json"))
    assert message.id == "h1-report" and message.content == report.to_markdown()
    assert "## Bibliography" in message.content and "[1] Source A. https://example.org/a" in message.content
