"""GET /threads/{id}/report against the real server (uvicorn, a worker, Redis): a run made with langgraph_sdk,
unchanged, then its report fetched with httpx as a browser or a chat UI would, as HTML, Markdown or JSON."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from support.server_harness import auth_headers, make_key
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Links(HTMLParser):
    """Ids and link targets of a page, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.add(tag)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "a":
            self.hrefs.append(found.get("href") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def report_url(url: str, thread_id: str, **params: str) -> httpx.URL:
    return httpx.URL(f"{url}/threads/{thread_id}/report", params=params)


async def finished_thread(url: str) -> tuple[str, dict]:
    client = get_client(url=url)
    thread = await client.threads.create()
    values = await client.runs.wait(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    return thread["thread_id"], values["report"]


async def test_a_finished_threads_report_as_a_page_markdown_and_json(nexa_server):
    thread_id, report = await finished_thread(nexa_server.url)

    page = httpx.get(report_url(nexa_server.url, thread_id, format="html"), headers=auth_headers())
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    links = Links(page.text)
    assert "script" not in links.tags and report["title"] in "".join(links.text)
    internal = [h for h in links.hrefs if h.startswith("#")]
    assert [h for h in internal if h.startswith("#section-")] == [f"#section-{i}" for i in range(1, len(TITLES) + 1)]
    citations = [h for h in internal if h.startswith("#ref-")]
    assert citations and {h[1:] for h in internal} <= links.ids
    assert {e["url"] for e in report["bibliography"]} <= set(links.hrefs)
    assert all(title in "".join(links.text) for title in TITLES)

    browser = httpx.get(report_url(nexa_server.url, thread_id), headers={**auth_headers(), "accept": BROWSER_ACCEPT})
    assert browser.headers["content-type"] == "text/html; charset=utf-8" and browser.text == page.text

    markdown = httpx.get(report_url(nexa_server.url, thread_id, format="markdown"), headers=auth_headers())
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith(f"# {report['title']}\n")

    as_json = httpx.get(report_url(nexa_server.url, thread_id), headers=auth_headers())
    assert as_json.headers["content-type"] == "application/json" and as_json.json() == report


async def test_unknown_other_owners_and_unfinished_threads_are_refused_clearly(nexa_server, server_env):
    thread_id, _ = await finished_thread(nexa_server.url)
    unknown = httpx.get(report_url(nexa_server.url, "no-such-thread", format="html"), headers=auth_headers())
    assert unknown.status_code == 404 and unknown.json()["message"] == "thread 'no-such-thread' not found"
    stranger = {"x-api-key": make_key(server_env["REDIS_URL"], "stranger", "pro")}
    assert httpx.get(report_url(nexa_server.url, thread_id, format="html"), headers=stranger).status_code == 404
    assert httpx.get(report_url(nexa_server.url, thread_id, format="html")).status_code == 401

    bad = httpx.get(report_url(nexa_server.url, thread_id, format="pdf"), headers=auth_headers())
    assert bad.status_code == 422 and bad.json()["message"].startswith("format: 'pdf' is not a report format")

    client = get_client(url=nexa_server.url)
    empty = await client.threads.create()
    never_run = httpx.get(report_url(nexa_server.url, empty["thread_id"], format="html"), headers=auth_headers())
    assert never_run.status_code == 409 and "has no finished report yet" in never_run.json()["message"]

    paused = await client.threads.create()
    await client.runs.wait(paused["thread_id"], "nexa_research", input={"topic": TOPIC},
                           context={**QUICK, "review_plan": True})
    waiting = httpx.get(report_url(nexa_server.url, paused["thread_id"]), headers=auth_headers())
    assert waiting.status_code == 409 and "waiting for plan review" in waiting.json()["message"]


async def test_a_thread_with_a_run_in_progress_has_no_report_until_the_run_ends(nexa_server, server_env):
    hold = Path(server_env["NEXA_TEST_HOLD_FILE"])  # searches of the "slow" sections wait while it exists
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    hold.touch()
    try:
        run = await client.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
        busy = httpx.get(report_url(nexa_server.url, thread["thread_id"], format="html"), headers=auth_headers())
        assert busy.status_code == 409 and "has a run in progress" in busy.json()["message"]
    finally:
        hold.unlink()
    await client.runs.join(thread["thread_id"], run["run_id"])
    done = httpx.get(report_url(nexa_server.url, thread["thread_id"], format="html"), headers=auth_headers())
    assert done.status_code == 200 and done.text.startswith("<!DOCTYPE html>")
