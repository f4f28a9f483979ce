"""Plan review from agent-chat-ui: the run pauses after planning, the UI's agent inbox shows the plan, and a click on
Accept resumes it to the report.

The UI sends no run configuration (no way to set `review_plan` per run), so the knob comes from where an operator
sets a default: NEXA_REVIEW_PLAN=true in the worker's environment (per-run values would still win). The module has
a server of its own, so the other browser tests' runs never pause.
"""

from __future__ import annotations

import pytest
from langgraph_sdk import get_client

from support.agent_chat_ui_page import ApiCalls, ChatPage
from support.server_harness import auth_headers
from support.server_providers import TITLES, TOPIC

pytestmark = [pytest.mark.browser, pytest.mark.redis]
GRAPH = "nexa_research"


@pytest.fixture(scope="module")
def server(chat_cluster):
    return chat_cluster(NEXA_REVIEW_PLAN="true")


async def test_a_plan_under_review_is_approved_from_the_ui(server, agent_chat_ui, browser):
    key = auth_headers()["x-api-key"]
    chat = await ChatPage.open(browser, agent_chat_ui)
    calls = ApiCalls(server.url)
    chat.page.on("request", calls.record)
    await chat.connect(server.url, GRAPH, key)

    await chat.ask(TOPIC)
    accept = await chat.wait_for_button("Accept")
    shown = await chat.page.inner_text("body")
    assert all(title in shown for title in TITLES), "the inbox shows the plan under review"
    assert "Bibliography" not in shown
    thread_id = next(p for m, p, _ in calls.seen if m == "POST" and p.endswith("/runs/stream")).split("/")[2]
    client = get_client(url=server.url)
    assert (await client.threads.get(thread_id))["status"] == "interrupted"

    await accept.click()
    await chat.wait_for_text("Bibliography")
    await chat.wait_until_idle()
    state = await client.threads.get_state(thread_id)
    assert [s["title"] for s in state["values"]["report"]["sections"]] == TITLES
    assert not state["tasks"] or not any(t.get("interrupts") for t in state["tasks"])
    resumes = [p for m, p, k in calls.seen if m == "POST" and p == f"/threads/{thread_id}/runs/stream" and k == key]
    assert len(resumes) == 2, "one run asked for the research, a second one carried the approval"
