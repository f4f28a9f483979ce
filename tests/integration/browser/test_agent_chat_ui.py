"""agent-chat-ui, unchanged, in Chromium against `nexa serve`: a topic typed in the browser comes back as a streamed,
cited report, and the thread is in the history after a reload.

Everything is real but the models (scripted, tests/support/server_providers.py): the UI as LangChain ships it,
Chromium, uvicorn, the worker, Redis. The UI is configured through its own setup form with the test's API key,
and the server answers CORS for the UI's origin (NEXA_SERVER_CORS_ORIGINS), as a deployment serving the UI must.

NEXA_UPDATE_SCREENSHOTS=1 also writes the finished (scripted) report's screenshot to docs/images/; the README's is of a
real run on the embedded defaults.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from support.agent_chat_ui_page import ApiCalls, ChatPage
from support.server_harness import auth_headers
from support.server_providers import TITLES, TOPIC

pytestmark = [pytest.mark.browser, pytest.mark.redis]
SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "images" / "agent-chat-ui-report.png"
GRAPH = "nexa_research"


@pytest.fixture(scope="module")
def server(chat_cluster):
    return chat_cluster()


async def test_a_typed_topic_streams_a_cited_report_and_stays_in_the_history(
    server, agent_chat_ui, browser, tmp_path
):
    key = auth_headers()["x-api-key"]
    chat = await ChatPage.open(browser, agent_chat_ui)
    calls = ApiCalls(server.url)
    chat.page.on("request", calls.record)
    await chat.connect(server.url, GRAPH, key)

    # The sections whose title says "slow" wait on the hold file: the page must show the plan while the report
    # cannot exist yet, which proves it streams instead of showing everything at the end.
    hold = Path(server.env["NEXA_TEST_HOLD_FILE"])
    hold.touch()
    try:
        await chat.ask(TOPIC)
        await chat.wait_for_text("Planned 4 sections: 1. Alpha origins")
        assert "Bibliography" not in await chat.page.inner_text("body")
        assert await chat.page.get_by_role("button", name="Cancel").is_visible(), "the UI shows the run in progress"
    finally:
        hold.unlink()
    await chat.wait_for_text("Bibliography")
    await chat.wait_until_idle()
    final = await chat.page.inner_text("body")
    for number, title in enumerate(TITLES, start=1):
        assert f"Section {number} done" in final and title in final
    assert re.search(r"\[\d+\]", final), "the report cites its sources by number"
    assert any(href.startswith("https://example.org/alpha-origins/") for href in await chat.report_links())
    await chat.screenshot(str(tmp_path / "report.png"))
    if os.environ.get("NEXA_UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await chat.screenshot(str(SCREENSHOT))

    # Every call the UI made carried the key, and the thread the UI created ran the graph on the server.
    assert calls.keys_sent_to("POST", "/threads/search") and set(calls.keys_sent_to("POST", "/threads/search")) == {key}
    streams = [p for m, p, k in calls.seen if m == "POST" and p.endswith("/runs/stream") and k == key]
    assert len(streams) == 1
    thread_id = streams[0].split("/")[2]
    state = await get_client(url=server.url).threads.get_state(thread_id)
    assert [s["title"] for s in state["values"]["report"]["sections"]] == TITLES

    await chat.page.reload()
    assert TOPIC in await chat.open_history()
    await chat.start_new_thread()
    assert "Bibliography" not in await chat.page.inner_text("body")
    await chat.open_history()
    await chat.open_thread(TOPIC)
    await chat.wait_for_text("Bibliography")


async def test_a_thread_started_by_a_script_opens_in_the_ui(server, agent_chat_ui, browser):
    """Research started with langgraph_sdk and {"topic": ...} reads in the UI like one asked there."""
    client = get_client(url=server.url)
    topic = "The printing press in Venice"
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], GRAPH, input={"topic": topic})
    chat = await ChatPage.open(browser, agent_chat_ui)
    await chat.connect(server.url, GRAPH, auth_headers()["x-api-key"])
    assert topic in await chat.open_history()
    await chat.open_thread(topic)
    await chat.wait_for_text("Bibliography")
    assert "Section 4 done" in await chat.page.inner_text("body")
