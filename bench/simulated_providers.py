"""Providers with fixed latency and no network, for benchmarks of the graph machinery (not of models)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from nexa_research.providers import StaticProviders, make_source


def _human(messages: list[BaseMessage]) -> str:
    return "\n".join(str(m.content) for m in messages if m.type == "human")


def _section(messages: list[BaseMessage]) -> str:
    match = re.search(r"^Section: (.*)$", _human(messages), re.MULTILINE)
    return match.group(1) if match else ""


SUBJECTS = ("Movable type foundries", "Paper mills along the Rhine", "Licensing of Venetian printers",
            "Woodcut illustration", "Bookbinding guilds", "Censorship of printed books", "Ink made from linseed oil")


class SimulatedModel(BaseChatModel):
    """Answers like a role would, after `latency` seconds."""

    role: str
    latency: float
    sections: int = 5

    @property
    def _llm_type(self) -> str:
        return "simulated"

    def _answer(self, messages: list[BaseMessage]) -> str:
        section = _section(messages)
        if self.role == "planner":
            # titles that name subjects: the plan checks (nodes/checks/plan.py) reject "Part 0", "Part 1", ... as
            # generic and as duplicates of each other, and every run failed after three plans
            return json.dumps({"title": "Simulated", "paragraphs": [
                {"title": t, "outline": f"About {t.lower()}.", "questions": ["What is it?", "Why does it matter?"]}
                for t in SUBJECTS[: self.sections]]})
        if self.role == "query_writer":
            return json.dumps({"query": f"{section} facts"})
        if self.role == "reflection":
            n = len(re.findall(r"^- ", _human(messages).split("Queries already tried:")[1], re.MULTILINE))
            return json.dumps({"sufficient": False, "gaps": ["more detail"], "next_query": f"{section} detail {n}"})
        if self.role == "synthesizer":
            numbers = re.findall(r"^\[(\d+)\]", _human(messages), re.MULTILINE)
            return " ".join(f"Finding {n} about {section} is stated here [{n}]." for n in numbers)
        return json.dumps({"executive_summary": "Summary of the simulated findings [1].",
                           "introduction": "An introduction to the simulated topic.",
                           "transitions": [], "conclusion": "A conclusion for the simulated topic."})

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        raise NotImplementedError("async only")

    async def _agenerate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        await asyncio.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._answer(messages)))])


class SimulatedSearch:
    name = "simulated"

    def __init__(self, latency: float) -> None:
        self.latency = latency

    async def search(self, query: str, k: int, filters: dict | None = None) -> list:
        await asyncio.sleep(self.latency)
        return [make_source(url=f"https://example.org/{abs(hash(query)) % 10**8}/{i}", title=f"{query} {i}",
                            text=f"Passage {i} about {query}. " * 20) for i in range(k)]


def simulated_providers(llm_latency: float = 1.0, search_latency: float = 0.2, sections: int = 5) -> StaticProviders:
    roles = ("planner", "query_writer", "reflection", "synthesizer", "collator")
    return StaticProviders(
        chat={r: SimulatedModel(role=r, latency=llm_latency, sections=sections) for r in roles},
        search=SimulatedSearch(search_latency),
    )
