"""Scripted chat models for unit tests of node logic: answers computed from the prompt, calls recorded.

Each role gets its own `ScriptedChatModel` whose `respond(messages) -> str` decides the answer, so parallel
branches get answers that fit their own prompt regardless of scheduling order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from nexa_research.providers import InMemorySearch, StaticProviders

Responder = Callable[[list[BaseMessage]], str]


class ScriptedChatModel(BaseChatModel):
    respond: Any
    name_: str = "scripted"
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def model_name(self) -> str:
        return self.name_

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        self.calls.append(messages)
        text = self.respond(messages)
        message = AIMessage(
            text,
            usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
            response_metadata={"model_name": self.name_},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def human_text(messages: list[BaseMessage]) -> str:
    return "\n".join(str(m.content) for m in messages if m.type == "human")


def field(messages: list[BaseMessage], name: str) -> str:
    match = re.search(rf"^{name}: (.*)$", human_text(messages), re.MULTILINE)
    return match.group(1).strip() if match else ""


def plan_json(titles: list[str]) -> str:
    return json.dumps(
        {
            "title": "The Printing Press",
            "paragraphs": [
                {"title": t, "outline": f"What is known about {t}.", "questions": [f"What is {t}?", f"Why does {t} matter?"]}
                for t in titles
            ],
        }
    )


def planner_for(titles: list[str]) -> ScriptedChatModel:
    return ScriptedChatModel(respond=lambda m: plan_json(titles), name_="planner-fake")


def query_writer() -> ScriptedChatModel:
    return ScriptedChatModel(respond=lambda m: json.dumps({"query": f"{field(m, 'Section')} facts"}), name_="query-fake")


def reflection_always(sufficient: bool) -> ScriptedChatModel:
    """Insufficient answers propose a new query each time, so only the cap can end the loop."""
    counter = {"n": 0}

    def respond(messages: list[BaseMessage]) -> str:
        counter["n"] += 1
        if sufficient:
            return json.dumps({"sufficient": True, "gaps": [], "next_query": ""})
        return json.dumps(
            {"sufficient": False, "gaps": ["more detail"], "next_query": f"{field(messages, 'Section')} detail {counter['n']}"}
        )

    return ScriptedChatModel(respond=respond, name_="reflection-fake")


def cite_all_synthesizer(extra: str = "") -> ScriptedChatModel:
    """Writes one sentence per numbered source in the prompt, citing it; `extra` is appended verbatim."""

    def respond(messages: list[BaseMessage]) -> str:
        numbers = re.findall(r"^\[(\d+)\] (.+?) \(", human_text(messages), re.MULTILINE)
        section = field(messages, "Section")
        sentences = [f"The source titled {title} informs the section on {section} [{n}]." for n, title in numbers]
        return " ".join(sentences) + extra

    return ScriptedChatModel(respond=respond, name_="synth-fake")


def collator() -> ScriptedChatModel:
    def respond(messages: list[BaseMessage]) -> str:
        count = int(re.search(r"(\d+) transitions", human_text(messages)).group(1))
        return json.dumps(
            {
                "executive_summary": "The findings are summarised here with a real citation [1] and a fake one [99].",
                "introduction": "This report introduces the topic. The topic matters to readers across Europe [1].",
                "transitions": [f"Next, part {i + 1}." for i in range(count)],
                "conclusion": "In conclusion, the sections together explain the topic well.",
            }
        )

    return ScriptedChatModel(respond=respond, name_="collator-fake")


def corpus_for(titles: list[str], per_title: int = 3, shared_url: str | None = None) -> list[dict[str, str]]:
    """Documents matching each title's words; `shared_url` gives every title one passage under the same URL."""
    docs = []
    for t in titles:
        slug = re.sub(r"\W+", "-", t.lower())
        for i in range(per_title):
            docs.append({"url": f"https://example.org/{slug}/{i}", "title": f"{t} source {i}", "text": f"{t} facts detail {i}: {t} is documented here."})
        if shared_url:
            docs.append({"url": shared_url, "title": "Shared reference", "text": f"{t} facts appear in the shared reference too."})
    return docs


def providers_for(titles: list[str], *, reflection: ScriptedChatModel | None = None, synthesizer: ScriptedChatModel | None = None, search: Any = None, shared_url: str | None = None) -> StaticProviders:
    return StaticProviders(
        chat={
            "planner": planner_for(titles),
            "query_writer": query_writer(),
            "reflection": reflection or reflection_always(sufficient=True),
            "synthesizer": synthesizer or cite_all_synthesizer(),
            "collator": collator(),
        },
        search=search or InMemorySearch(corpus_for(titles, shared_url=shared_url)),
    )


def named_corpus(titles: list[str], name: str) -> InMemorySearch:
    """`corpus_for(titles)` searched under backend name `name` (search-cache keys include the backend's name)."""
    search = InMemorySearch(corpus_for(titles))
    search.name = name
    return search
