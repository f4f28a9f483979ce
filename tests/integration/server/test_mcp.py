"""`/mcp` driven by the official `mcp` client over streamable HTTP, against uvicorn and a real worker process.

Runs use scripted models (tests/support/server_providers.py), so a report is the same whichever door it came
through: the runs API (langgraph_sdk) and the MCP tool must give the same sections and bibliography.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import anyio
import httpx
import pytest
from langgraph_sdk import get_client
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from nexa_research.report import Report
from support.server_harness import auth_headers, make_key
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}


@asynccontextmanager
async def mcp_session(url: str, headers: dict[str, str]):
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=300)) as http:
        async with streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def comparable(report: Report) -> dict:
    """What a report says (its metadata, such as thread id, timings and dates, differs per run)."""
    return {"title": report.title, "summary": report.executive_summary, "introduction": report.introduction,
            "sections": [(s.title, s.status, s.transition, s.content) for s in report.sections],
            "conclusion": report.conclusion, "bibliography": [(e.number, e.url, e.title) for e in report.bibliography]}


async def test_the_tools_are_listed_with_the_research_knobs(nexa_server):
    async with mcp_session(nexa_server.url, auth_headers()) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == {"research", "research_report"}
    schema = tools["research"].inputSchema
    assert schema["required"] == ["topic"]
    assert {"max_sections", "max_iterations", "search_backend", "language"} <= set(schema["properties"])
    assert "review_plan" not in schema["properties"], "a plan review would wait for an answer MCP cannot give"
    assert tools["research"].outputSchema["title"] == "Report"


async def test_research_reports_progress_and_returns_the_runs_api_report(nexa_server):
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with mcp_session(nexa_server.url, auth_headers()) as session:
        result = await session.call_tool("research", {"topic": TOPIC, **QUICK}, progress_callback=on_progress)
        assert not result.isError, result.content
        thread_id = result.meta["nexa-research/thread_id"]
        again = await session.call_tool("research_report", {"thread_id": thread_id})
    report = Report.model_validate(result.structuredContent)
    assert [s.title for s in report.sections] == TITLES and report.bibliography
    assert result.content[0].text == report.to_markdown()
    assert Report.model_validate(again.structuredContent) == report

    values = [p[0] for p in progress]
    assert values == sorted(values) and len(set(values)) == len(values), "progress must grow at every notification"
    messages = " | ".join(p[2] or "" for p in progress)
    assert messages.startswith("planned 4 sections") and all(f"'{t}': done" in messages for t in TITLES)
    assert progress[-1][2].startswith("report collated") and progress[-1][0] == progress[-1][1] == len(TITLES) + 2

    client = get_client(url=nexa_server.url)
    waited = await client.runs.wait(None, "nexa_research", input={"topic": TOPIC}, context=QUICK)
    assert comparable(Report.model_validate(waited["report"])) == comparable(report)


async def test_a_call_without_a_key_is_refused_and_a_bearer_key_is_accepted(nexa_server):
    refused = httpx.post(f"{nexa_server.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                         headers={"accept": "application/json, text/event-stream"})
    assert refused.status_code == 401 and "API key" in refused.json()["message"]
    with pytest.raises(BaseExceptionGroup) as failed:  # the official client raises the 401 from its task group
        async with mcp_session(nexa_server.url, {}) as session:
            await session.list_tools()
    statuses = [e.response.status_code for e in leaves(failed.value) if isinstance(e, httpx.HTTPStatusError)]
    assert statuses == [401]
    bearer = {"authorization": f"Bearer {os.environ['LANGGRAPH_API_KEY']}"}
    async with mcp_session(nexa_server.url, bearer) as session:
        assert {t.name for t in (await session.list_tools()).tools} == {"research", "research_report"}


async def test_quota_tier_and_knob_refusals_are_tool_errors_naming_the_reason(nexa_server, server_env):
    spent = make_key(server_env["REDIS_URL"], "mcp-spent", "free", daily_quota=0)
    async with mcp_session(nexa_server.url, {"x-api-key": spent}) as session:
        over = await session.call_tool("research", {"topic": TOPIC})
    assert over.isError and "refused (429): daily quota of 0 runs used" in over.content[0].text

    free = make_key(server_env["REDIS_URL"], "mcp-free", "free")
    async with mcp_session(nexa_server.url, {"x-api-key": free}) as session:
        tier = await session.call_tool("research", {"topic": TOPIC, "max_iterations": 3})
        knob = await session.call_tool("research", {"topic": TOPIC, "min_sections": 5, "max_sections": 4})
        empty = await session.call_tool("research", {"topic": "   "})
        other = await session.call_tool("research_report", {"thread_id": "not-a-thread"})
    assert tier.isError and "refused (403): max_iterations: 3 is over the free tier's limit" in tier.content[0].text
    assert knob.isError and "min_sections (5) is greater than max_sections (4)" in knob.content[0].text
    assert empty.isError and "refused (422): topic: must not be empty" in empty.content[0].text
    assert other.isError and "thread_id: thread 'not-a-thread' not found" in other.content[0].text


async def test_a_key_gets_only_its_own_threads_report(nexa_server, server_env):
    async with mcp_session(nexa_server.url, auth_headers()) as session:
        mine = await session.call_tool("research", {"topic": TOPIC, **QUICK})
    thread_id = mine.meta["nexa-research/thread_id"]
    stranger = make_key(server_env["REDIS_URL"], "mcp-stranger", "custom")
    async with mcp_session(nexa_server.url, {"x-api-key": stranger}) as session:
        theirs = await session.call_tool("research_report", {"thread_id": thread_id})
    assert theirs.isError and "not found" in theirs.content[0].text


async def test_a_call_the_client_gives_up_on_cancels_its_run(nexa_server, server_env):
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])  # the "slow" sections' searches wait while it exists
    key = make_key(server_env["REDIS_URL"], "mcp-quitter", "custom")
    started = asyncio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        started.set()

    hold.touch()
    try:
        async with mcp_session(nexa_server.url, {"x-api-key": key}) as session:
            async with anyio.create_task_group() as calls:
                calls.start_soon(partial(session.call_tool, "research", {"topic": TOPIC, **QUICK},
                                         progress_callback=on_progress))
                await started.wait()
                calls.cancel_scope.cancel()
        client = get_client(url=nexa_server.url, api_key=key)
        [thread] = await client.threads.search(metadata={"via": "mcp"})
        for _ in range(150):
            [run] = await client.runs.list(thread["thread_id"])
            if run["status"] == "interrupted":
                break
            await asyncio.sleep(0.2)
        assert run["status"] == "interrupted"
    finally:
        hold.unlink()
