"""The research as a chat: the topic read from a human message, and the AI messages a run writes as it goes.

Chat clients (agent-chat-ui, any LangGraph chat front end) show a thread's `messages` and nothing else, so a run
says what it does there: the plan, each section as it finishes, and the report itself as one Markdown message.
The same facts also go to the `custom` stream (nodes/progress.py) for clients that want them structured.

Message ids are derived from the id of the human message the research answers (`ask_id`), never random: a node
that runs again (a resumed run, a retried branch) writes the same ids, and `add_messages` replaces its earlier
messages instead of adding copies. The ids:
  {ask_id}-plan, {ask_id}-review, {ask_id}-section-{index}, {ask_id}-report.
A topic sent as `{"topic": ...}` gets a human message too (id `topic-{n}`, n = messages already in the thread),
so a thread started by a script reads the same in a chat client as one started there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.types import Overwrite

from nexa_research.errors import ResearchInputError
from nexa_research.report import Report
from nexa_research.state import Paragraph, validate_topic

HUMAN_TYPES = frozenset({"human", "user"})


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or a list of content blocks of which the text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            block if isinstance(block, str) else str(block.get("text") or "")
            for block in content
            if isinstance(block, str) or (isinstance(block, Mapping) and block.get("type") == "text")
        ]
        return "\n".join(p for p in parts if p)
    return ""


def _kind(message: Any) -> str | None:
    if isinstance(message, BaseMessage):
        return message.type
    if isinstance(message, Mapping):
        kind = message.get("type") or message.get("role")
        return str(kind) if kind is not None else None
    return None


def _content(message: Any) -> Any:
    return message.content if isinstance(message, BaseMessage) else message.get("content")


def last_human(messages: Sequence[Any] | None) -> tuple[int, Any] | None:
    """Position and value of the last human message (a message object or a dict as clients send it), if any."""
    for position in range(len(messages or []) - 1, -1, -1):
        if (_kind(messages[position]) or "") in HUMAN_TYPES:  # type: ignore[index]
            return position, messages[position]  # type: ignore[index]
    return None


def topic_of_message(messages: Sequence[Any], field: str = "messages") -> str:
    """The topic a chat asks for: the text of its last human message, validated like any topic."""
    found = last_human(messages)
    if found is None:
        raise ResearchInputError(f"{field}: no human message to take the research topic from")
    position, message = found
    try:
        return validate_topic(content_text(_content(message)))
    except ResearchInputError as exc:
        raise ResearchInputError(f"{field}[{position}].content: {str(exc).removeprefix('topic: ')}") from exc


def topic_of_input(payload: Any) -> str:
    """The topic of a run's input, `{"topic": ...}` or `{"messages": [...]}`: a human message wins over `topic`,
    as the graph decides (`begin_research`). A `ResearchInputError` names the field when neither is usable."""
    if not isinstance(payload, Mapping):
        raise ResearchInputError('input: expected an object like {"topic": "..."} or {"messages": [...]}')
    messages = payload.get("messages")
    if messages is not None and not isinstance(messages, list):
        raise ResearchInputError("messages: expected a list of messages")
    if messages and last_human(messages) is not None:
        return topic_of_message(messages)
    if payload.get("topic") is None:
        if messages:
            raise ResearchInputError("messages: no human message to take the research topic from")
        raise ResearchInputError('topic: give a topic, or messages whose last human message is the topic')
    return validate_topic(payload.get("topic"))


def begin_research(state: Mapping[str, Any]) -> dict[str, Any]:
    """What the first node of a run writes: the topic it researches, the human message it answers, and a clean slate.

    The topic is the last human message when that message is new (not the one the thread's last research
    answered), else the `topic` value. A thread that researched before keeps its chat but not that research:
    its plan, sources, cost records and report would otherwise leak into the new one (sections merge by index,
    sources by id, records add up), so they are overwritten here.
    """
    messages = list(state.get("messages") or [])
    found = last_human(messages)
    asked = found[1] if found is not None else None
    update: dict[str, Any] = {}
    if asked is not None and asked.id != state.get("ask_id"):  # a new question: not the one last answered
        topic = topic_of_message(messages)
        ask_id = str(asked.id)
    else:
        topic = validate_topic(state.get("topic"))
        ask_id = f"topic-{len(messages)}"
        update["messages"] = [HumanMessage(topic, id=ask_id)]
    update |= {"topic": topic, "ask_id": ask_id, "plan_rejection": None}
    if state.get("paragraphs") or state.get("report") or state.get("sources") or state.get("steps"):
        update |= {
            "paragraphs": Overwrite([]), "sources": Overwrite([]), "steps": Overwrite([]), "report": None,
            "title": topic, "topic_cut": None, "subject": None,
        }
    return update


def plan_message(ask_id: str, paragraphs: Sequence[Paragraph]) -> AIMessage:
    titles = ", ".join(f"{i}. {p['title']}" for i, p in enumerate(paragraphs, start=1))
    return AIMessage(f"Planned {len(paragraphs)} sections: {titles}", id=f"{ask_id}-plan")


def review_message(ask_id: str, outcome: str) -> AIMessage:
    """What the plan review decided, said once (a second review answer replaces the first)."""
    return AIMessage(outcome, id=f"{ask_id}-review")


def section_message(ask_id: str, paragraph: Paragraph) -> AIMessage:
    number = paragraph["index"] + 1
    if paragraph["status"] == "done":
        count = len(paragraph["research"])
        text = f"Section {number} done, {count} source{'s' if count != 1 else ''}: {paragraph['title']}"
    else:
        text = f"Section {number} missing: {paragraph['title']} ({paragraph.get('error') or 'no reason recorded'})"
    return AIMessage(text, id=f"{ask_id}-section-{paragraph['index']}")


def report_message(ask_id: str, report: Mapping[str, Any]) -> AIMessage:
    """The finished report, as one Markdown message with its bibliography."""
    return AIMessage(Report.model_validate(report).to_markdown(), id=f"{ask_id}-report")
