"""The run writers: Markdown table with targets and findings, a real PNG, and a history line that parses and
carries what runs are grouped and compared by."""

from __future__ import annotations

import json

import pytest

from nexa_research.evals import score_report
from nexa_research.evals.history import FailedTopic, grouped, make_run, read_runs
from nexa_research.evals.outputs import write_run_outputs
from nexa_research.evals.similarity import Similarity
from nexa_research.evals.table import history_markdown
from nexa_research.evals.thresholds import load_thresholds
from support.eval_reports import EXPECTED, SECTIONS, make_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def evals():
    similarity = Similarity()
    clean = score_report(make_report(), expect_urls=EXPECTED, category="technology", seconds=12.5, similarity=similarity)
    generic = make_report([*SECTIONS[:2], ("Background", *SECTIONS[2][1:])])
    flawed = score_report(generic, expect_urls=EXPECTED, category="technology", seconds=20.0, similarity=similarity)
    return [clean, flawed]


def test_table_plot_and_history_are_written(evals, tmp_path):
    run = make_run(evals, command={"command": "score", "limit": 2}, thresholds=load_thresholds(), run_id="r1")
    files = write_run_outputs(run, evals, tmp_path / "r1", tmp_path / "history.jsonl")

    markdown = files.markdown.read_text(encoding="utf-8")
    assert "| cited sources on-topic | 100% of 6 (100% on score alone) | >= 90% | ✅ pass |" in markdown
    assert "| generic or duplicate titles | 1 | 0 | ❌ fail |" in markdown
    assert '- generic titles (1):\n  - "Background"' in markdown
    assert markdown.count("| The history of the printing press |") == 2

    assert files.plot is not None and files.plot.read_bytes().startswith(PNG_SIGNATURE)
    assert json.loads(files.scores.read_text(encoding="utf-8"))[1]["plan"]["generic_titles"] == ["Background"]

    line = json.loads(files.history.read_text(encoding="utf-8").splitlines()[0])
    for key in ("run_id", "date", "git_commit", "git_dirty", "command", "models", "prompt_versions", "thresholds",
                "aggregate", "targets", "topics"):
        assert key in line, key
    assert line["models"] == {"synthesizer": ["stub-model"]} and line["prompt_versions"] == {"synthesizer": "abc123"}
    assert line["command"] == {"command": "score", "limit": 2}
    assert line["targets"]["title_problems"] is False and line["targets"]["fragments"] is True
    assert line["aggregate"]["seconds_total"] == 32.5 and line["aggregate"]["recall_mean"] == 1.0
    assert [t["category"] for t in line["topics"]] == ["technology", "technology"]


def test_a_run_records_the_commit_its_reports_were_made_with(evals):
    """A full eval takes half an hour; commits made meanwhile are not in the code that ran (the first 24-topic run
    recorded the commit of its end)."""
    run = make_run(evals, command={"command": "run"}, thresholds=load_thresholds(), checkout=("abc1234", False))
    assert (run.git_commit, run.git_dirty) == ("abc1234", False)


def test_history_groups_runs_by_models_and_prompt_versions(evals, tmp_path):
    history = tmp_path / "history.jsonl"
    thresholds = load_thresholds()
    first = make_run(evals, command={}, thresholds=thresholds, run_id="a")
    other = evals[0].model_copy(update={"models": {"synthesizer": ["bigger-model"]}})
    second = make_run([other], command={}, thresholds=thresholds, run_id="b")
    for run in (first, second, first):
        write_run_outputs(run, evals, tmp_path / run.run_id, history)
    groups = grouped(read_runs(history))
    assert sorted(len(runs) for runs in groups.values()) == [1, 2]
    assert {key.split(" | ")[0] for key in groups} == {"models: synthesizer=stub-model", "models: synthesizer=bigger-model"}
    text = history_markdown(groups)
    assert text.count("## models: synthesizer=") == 2 and "prompts: synthesizer:abc123" in text


def test_a_failed_topic_fails_every_target(evals):
    run = make_run(evals[:1], command={}, thresholds=load_thresholds(),
                   failures=[FailedTopic(topic="x", error="ProviderError: down")])
    assert run.aggregate.failed == 1 and set(run.targets.values()) == {False}


def test_runs_on_the_embedded_server_group_together_whatever_its_port(evals):
    thresholds = load_thresholds()
    runs = [
        make_run([evals[0].model_copy(update={"models": {"synthesizer": [f"http://127.0.0.1:{port}/v1 qwen"]}})],
                 command={}, thresholds=thresholds, run_id=str(port))
        for port in (41001, 52002)
    ]
    assert list(grouped(runs)) == ["models: synthesizer=local qwen | prompts: synthesizer:abc123"]
    assert runs[0].models == {"synthesizer": ["http://127.0.0.1:41001/v1 qwen"]}  # stored as reported
