"""`nexa research --format` and `nexa report THREAD_ID` as a user runs them: a subprocess, the real knowledge base
and Redis, an OpenAI-protocol stub standing in for the model."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest

from support.cli_runs import nexa

pytestmark = pytest.mark.redis


class Anchors(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "a":
            self.hrefs.append(found.get("href") or "")


def test_research_writes_every_format_and_report_prints_a_finished_thread_again(cli_env, tmp_path):
    thread = f"cli-html-{os.getpid()}-{tmp_path.name}"
    done = nexa(cli_env, "research", "The printing press", "--sections", "3", "--iterations", "1", "--quiet",
                "--format", "all", "--out", str(tmp_path / "press.md"), "--thread-id", thread)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(tmp_path / f"press.{suffix}") for suffix in ("md", "html", "json")]
    report = json.loads((tmp_path / "press.json").read_text())
    page = (tmp_path / "press.html").read_text()
    anchors = Anchors(page)
    assert [h for h in anchors.hrefs if h.startswith("#section-")] == ["#section-1", "#section-2", "#section-3"]
    cited = [h for h in anchors.hrefs if h.startswith("#ref-")]
    assert cited and {h[1:] for h in anchors.hrefs if h.startswith("#")} <= anchors.ids
    assert {e["url"] for e in report["bibliography"]} <= set(anchors.hrefs)

    again = nexa(cli_env, "report", thread, "--format", "html")
    assert again.returncode == 0, again.stderr
    assert again.stdout == page
    saved = nexa(cli_env, "report", thread, "--format", "markdown", "--out", str(tmp_path / "again" / "press.md"))
    assert saved.returncode == 0 and saved.stdout.strip() == str(tmp_path / "again" / "press.md")
    assert (tmp_path / "again" / "press.md").read_text() == (tmp_path / "press.md").read_text()
    assert json.loads((tmp_path / "again" / "press.json").read_text()) == report


def test_report_of_an_unknown_thread_or_a_bad_format_is_a_clear_error(cli_env):
    missing = nexa(cli_env, "report", "no-such-thread")
    assert missing.returncode == 2 and "no run is stored on thread 'no-such-thread'" in missing.stderr
    bad = nexa(cli_env, "report", "no-such-thread", "--format", "pdf")
    assert bad.returncode == 2 and "--format" in bad.stderr and "'pdf' is not one of" in bad.stderr
