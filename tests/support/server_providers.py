"""Providers for server tests, loaded by API and worker processes through NEXA_SERVER_PROVIDERS.

    NEXA_SERVER_PROVIDERS=support.server_providers:make

Scripted models (tests/support/scripted_models.py) and an in-memory corpus, so runs are quick and need no LLM. Every
model and search call is appended to NEXA_TEST_CALL_LOG (one JSON line: pid, kind, role, section), so a test
can tell which process did what. While the file named by NEXA_TEST_HOLD_FILE exists, searches for sections
whose title contains "slow" block; while the file named by NEXA_TEST_MODEL_HOLD_FILE exists, model calls for those
sections block the thread LangChain runs them on (a call no cancellation can interrupt, as a model or embedding
call in a thread is); NEXA_TEST_SEARCH_DELAY adds a delay to every search. The planner raises on
FAILING_TOPIC, so a run can fail the way a bug fails it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from nexa_research.providers import InMemorySearch
from support.scripted_models import ScriptedChatModel, corpus_for, field, providers_for

TITLES = ["Alpha origins", "Beta spread", "Gamma slow effects", "Delta slow legacy"]
TOPIC = "The printing press"
FAILING_TOPIC = "A topic the planner fails on"  # its run ends in error: the planner raises a RuntimeError (a bug)


def _log(**event: str) -> None:
    path = os.environ.get("NEXA_TEST_CALL_LOG")
    if path:
        with Path(path).open("a") as out:
            out.write(json.dumps({"pid": os.getpid(), **event}) + "\n")


class LoggedSearch(InMemorySearch):
    async def search(self, query, k, filters=None):
        section = next((t for t in TITLES if t in query), query)
        _log(kind="search", section=section)
        delay = float(os.environ.get("NEXA_TEST_SEARCH_DELAY", "0"))
        if delay:
            await asyncio.sleep(delay)
        hold = os.environ.get("NEXA_TEST_HOLD_FILE")
        while hold and "slow" in section and Path(hold).exists():
            await asyncio.sleep(0.1)
        return await super().search(query, k, filters)


def _logged(model: ScriptedChatModel, role: str) -> ScriptedChatModel:
    inner = model.respond

    def respond(messages):
        if role == "planner" and FAILING_TOPIC in str(messages[-1].content):
            raise RuntimeError("scripted planner failure")
        section = field(messages, "Section")
        _log(kind="llm", role=role, section=section)
        hold = os.environ.get("NEXA_TEST_MODEL_HOLD_FILE")
        while hold and "slow" in section and Path(hold).exists():
            time.sleep(0.1)
        answer = inner(messages)
        if role == "synthesizer":
            _log(kind="done", section=section)
        return answer

    model.respond = respond
    return model


def make():
    providers = providers_for(TITLES, search=LoggedSearch(corpus_for(TITLES)))
    for role, model in providers._chat.items():
        _logged(model, role)
    return providers
