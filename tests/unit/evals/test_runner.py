"""`nexa eval run` end to end with the research call replaced: what it passes to `aresearch`, what it saves and
scores, and that a topic whose research fails is recorded and fails the run instead of stopping it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import nexa_research
from nexa_research.cli import app
from nexa_research.errors import ProviderError
from support.eval_reports import make_report


def test_eval_run_researches_saves_scores_and_records_failures(tmp_path, monkeypatch):
    calls: list[tuple[str, dict]] = []

    async def fake_aresearch(topic, **kwargs):
        calls.append((topic, kwargs))
        if topic.startswith("Broken"):
            raise ProviderError("synthesizer: every endpoint failed")
        return make_report()

    monkeypatch.setattr(nexa_research, "aresearch", fake_aresearch)
    topics = tmp_path / "topics.jsonl"
    topics.write_text(
        json.dumps({"topic": "The history of the printing press", "category": "technology",
                    "expect_urls": ["https://en.wikipedia.org/wiki/Printing_press"]}) + "\n"
        + json.dumps({"topic": "Broken topic", "category": "history", "expect_urls": ["https://en.wikipedia.org/wiki/X"]}) + "\n"
        + json.dumps({"topic": "Not reached", "category": "arts", "expect_urls": []}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["eval", "run", "--limit", "2", "--sections", "3", "--iterations", "1",
                                      "--topics", str(topics), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert [topic for topic, _ in calls] == ["The history of the printing press", "Broken topic"]
    assert calls[0][1] == {"use_cache": False, "min_sections": 3, "max_sections": 3, "max_iterations": 1}
    assert "| fragments | 0 | 0 | ❌ fail |" in result.output  # a failed topic fails every target
    assert "## Failed runs\n\n- Broken topic: ProviderError: synthesizer: every endpoint failed" in result.output

    run_dir = next(p for p in out.iterdir() if p.is_dir())
    saved = sorted(p.name for p in (run_dir / "reports").iterdir())
    assert saved == ["01-the-history-of-the-printing-press.json", "01-the-history-of-the-printing-press.md"]
    line = json.loads((out / "history.jsonl").read_text(encoding="utf-8"))
    assert line["command"]["sections"] == 3 and line["aggregate"]["failed"] == 1
    assert line["failures"][0]["topic"] == "Broken topic" and line["topics"][0]["recall"] == 1.0
    assert line["topics"][0]["seconds"] is not None


def test_eval_run_prints_both_recalls_and_records_the_sections_asked(tmp_path, monkeypatch):
    async def fake_aresearch(topic, **kwargs):
        return make_report()

    monkeypatch.setattr(nexa_research, "aresearch", fake_aresearch)
    relevant = [f"https://en.wikipedia.org/wiki/{t}" for t in ("Printing_press", "Johannes_Gutenberg", "Book", "Paper")]
    topics = tmp_path / "topics.jsonl"
    topics.write_text(json.dumps({"topic": "The history of the printing press", "category": "technology",
                                  "expect_urls": relevant[:1], "relevant_urls": relevant}) + "\n", encoding="utf-8")
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["eval", "run", "--sections", "4", "--topics", str(topics), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "| expected-source recall (mean) | 100% |" in result.output
    assert "| relevant-source recall (mean; found / min(10, relevant)) | 50% | >= 60% | ❌ fail |" in result.output
    assert "| sections printed | 3 of 4 asked (75%) |" in result.output
    line = json.loads((out / "history.jsonl").read_text(encoding="utf-8"))
    assert line["topics"][0]["relevant_recall"] == 0.5 and line["topics"][0]["sections_asked"] == 4
    assert line["informational"] == {"words_goal_met": False} and "words_goal_met" not in line["targets"]
