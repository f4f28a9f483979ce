"""The `nexa` command as a user runs it: a subprocess, the real knowledge base and Redis, an OpenAI-protocol stub
standing in for the model (the end-to-end test covers the real model). Research, threads, history, resume, doctor."""

from __future__ import annotations

import json
import os

import pytest

from support.cli_runs import nexa

pytestmark = pytest.mark.redis


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


def test_a_folder_in_its_own_collection_researched_and_cited_by_section(cli_env, tmp_path):
    """`nexa ingest FOLDER --collection NAME --exclude ...`, `nexa collections`, `nexa research --collection NAME`:
    the report cites the sections of the user's pages at their anchors, titled by page and heading."""
    docs = tmp_path / "manual"
    (docs / "_sources").mkdir(parents=True)
    (docs / "presses.html").write_text(
        "<title>3.1. Printing Presses</title><div class='navheader'><a href='a.html'>Prev</a> "
        "<a href='b.html'>Next</a></div><h2 id='SCREW'>3.1.1. The Screw Press</h2><p>The screw press pressed paper "
        "onto inked type with a wooden screw, printing one sheet at a time.</p><h2 id='MOVABLE'>3.1.2. Movable Type"
        "</h2><p>Movable type let printers set and reuse individual letters for every new page they printed.</p>")
    (docs / "_sources" / "presses.txt").write_text("An earlier draft of the page about printing presses.")
    (docs / "style.css").write_text("p { margin: 0 }")
    name = f"cli_docs_{tmp_path.name[-8:]}".replace("-", "_")

    ingested = nexa(cli_env, "ingest", str(docs), "--collection", name, "--exclude", "_sources/**")
    assert ingested.returncode == 0, ingested.stderr
    assert "1 added, 0 updated, 0 removed, 0 unchanged (2 chunks written); not documents: 1 .css, 1 excluded" in " ".join((ingested.stdout + ingested.stderr).split())
    again = nexa(cli_env, "ingest", str(docs), "--collection", name, "--exclude", "_sources/**")
    assert "0 added, 0 updated, 0 removed, 1 unchanged" in " ".join((again.stdout + again.stderr).split())

    listed = nexa(cli_env, "collections")
    assert listed.returncode == 0, listed.stderr
    assert any(name in line and " 2 " in line for line in (listed.stdout + listed.stderr).splitlines())

    out = tmp_path / "report.md"
    done = nexa(cli_env, "research", "The printing press", "--sections", "3", "--iterations", "1", "--collection", name,
                "--out", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    cited = {e["url"].rsplit("/", 1)[-1]: e["title"] for e in report["bibliography"]}
    assert cited and set(cited) <= {"presses.html#SCREW", "presses.html#MOVABLE"}
    assert set(cited.values()) <= {"Printing Presses › The Screw Press", "Printing Presses › Movable Type"}
    assert "Prev" not in out.read_text() and "3.1" not in out.read_text()

    dropped = nexa(cli_env, "collections", "--drop", name)
    assert dropped.returncode == 0 and name not in dropped.stdout + dropped.stderr.replace(f"collection {name!r} deleted", "")
    assert nexa(cli_env, "collections", "--drop", name).returncode == 2
