"""`nexa eval score` as a user runs it (a subprocess on a report file), and `nexa eval history` on what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from nexa_research.cli import app
from support.eval_reports import SECTIONS, make_report

NEXA = Path(sys.executable).with_name("nexa")


def test_eval_score_prints_the_findings_and_writes_the_run(tmp_path):
    report = make_report([*SECTIONS[:2], ("Introduction", *SECTIONS[2][1:])])
    path = tmp_path / "printing.json"
    path.write_text(report.to_json(), encoding="utf-8")
    result = subprocess.run(
        [str(NEXA), "eval", "score", str(path), "--out", str(tmp_path / "out"), "--strict"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "NEXA_EVAL_JUDGE_MODEL": ""},
    )
    assert result.returncode == 1, result.stderr  # --strict: the generic title misses a target
    assert "| generic or duplicate titles | 1 | 0 | ❌ fail |" in result.stdout
    assert '- generic titles (1):\n  - "Introduction"' in result.stdout
    assert "| expected-source recall (mean) | 100% | >= 2/3 | ✅ pass |" in result.stdout  # the topic is in the dataset

    run_dir = next(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert (run_dir / "eval.png").read_bytes().startswith(b"\x89PNG")
    line = json.loads((tmp_path / "out" / "history.jsonl").read_text(encoding="utf-8"))
    assert line["git_commit"] is None and line["command"]["reports"] == [str(path)]

    shown = CliRunner().invoke(app, ["eval", "history", "--file", str(tmp_path / "out" / "history.jsonl")])
    assert shown.exit_code == 0, shown.output
    assert "## models: synthesizer=stub-model | prompts: synthesizer:abc123" in shown.output


def test_eval_score_names_an_unreadable_report(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "score", str(bad)])
    assert result.exit_code == 2
