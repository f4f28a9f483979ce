"""The `nexa` command as a user runs it: a subprocess, the real knowledge base and Redis, an OpenAI-protocol stub
standing in for the model (the end-to-end test covers the real model). Research, threads, history, resume, doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support.research_stub import research_answers

pytestmark = pytest.mark.redis
NEXA = [sys.executable, "-m", "nexa_research.cli"]


@pytest.fixture
def cli_env(serve, wiki_kb_data_dir, redis_stack_url):
    stub = serve(respond=research_answers)
    return {
        **os.environ,
        "NEXA_LLM_BASE_URL": stub.base_url,
        "NEXA_DATA_DIR": str(wiki_kb_data_dir),
        "REDIS_URL": redis_stack_url,
        "NEXA_CHECKPOINTER": "redis",
        "NEXA_CACHE": "false",
        "NEXA_RETRY_WAIT_SECONDS": "0",
        "NEXA_MIN_RELEVANCE": "-1",  # CLI machinery over a small corpus subset: no relevance gate
        "COLUMNS": "200",
    }


def nexa(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*NEXA, *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_research_writes_markdown_and_json_and_threads_remember_it(cli_env, tmp_path):
    thread = f"cli-{os.getpid()}-{tmp_path.name}"
    out = tmp_path / "report.md"
    done = nexa(cli_env, "research", "The printing press", "--sections", "3", "--iterations", "1",
                "--out", str(out), "--thread-id", thread)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    report = json.loads(out.with_suffix(".json").read_text())
    assert len(report["sections"]) == 3 and all(s["status"] == "done" for s in report["sections"])
    assert report["bibliography"] and all(e["url"].startswith("https://en.wikipedia.org/wiki/") for e in report["bibliography"])
    assert out.read_text().startswith("# ")
    assert "done" in done.stderr  # the live progress table's last state

    listed = nexa(cli_env, "threads")
    assert listed.returncode == 0, listed.stderr
    assert thread in listed.stdout
    rows = json.loads(nexa(cli_env, "threads", "--json").stdout)
    mine = next(r for r in rows if r["thread_id"] == thread)
    assert mine["status"] == "done" and (mine["sections_done"], mine["sections"]) == (3, 3)

    history = nexa(cli_env, "history", thread)
    assert history.returncode == 0 and "research_paragraph" in history.stdout
    steps = json.loads(nexa(cli_env, "history", thread, "--json").stdout)
    assert steps[0]["next"] == [] and steps[-1]["source"] == "input"
    step_zero = next(s["checkpoint_id"] for s in steps if s["step"] == 0)  # the input applied, nothing planned yet
    at = nexa(cli_env, "history", thread, "--at", step_zero)
    assert at.returncode == 0, at.stderr
    state = json.loads(at.stdout)
    assert state["values"]["topic"] == "The printing press" and state["values"]["paragraphs"] == []
    assert state["status"] == "interrupted before cached_report"

    again = nexa(cli_env, "resume", thread, "--out", str(tmp_path / "again.md"))
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "again.json").read_text())["sections"] == report["sections"]


def test_bad_input_is_a_clear_error_with_exit_code_2(cli_env):
    empty = nexa(cli_env, "research", "   ")
    assert empty.returncode == 2 and "topic: must not be empty" in empty.stderr
    bad = nexa(cli_env, "research", "The printing press", "--iterations", "9")
    assert bad.returncode == 2 and "max_iterations" in bad.stderr
    missing = nexa(cli_env, "resume", "no-such-thread")
    assert missing.returncode == 2 and "no run is stored on thread 'no-such-thread'" in missing.stderr


def test_doctor_reports_each_component(cli_env):
    result = nexa(cli_env, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    for component in ("llm", "search", "kb", "redis"):
        assert any(line.strip("│ ").startswith(component) for line in result.stdout.splitlines()), component
    assert "custom" in result.stdout and "JSON + Search modules" in result.stdout


def test_doctor_fails_when_the_llm_does_not_answer(cli_env):
    from support.openai_stub import closed_port_url

    result = nexa({**cli_env, "NEXA_LLM_BASE_URL": closed_port_url()}, "doctor")
    assert result.returncode == 1 and "fails" in result.stdout
