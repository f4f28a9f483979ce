"""`nexa research --format` and `nexa report`: which files a user gets, and bad choices refused before any run."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from nexa_research.cli import app, write_report
from nexa_research.cli.report import report_paths, write_report_files
from nexa_research.report import Report, ReportMetadata, ReportSection


def small_report() -> Report:
    return Report(title="Tea & ships", topic="The tea trade", executive_summary="Tea sailed [1].", introduction="",
                  sections=[ReportSection(index=0, title="Ships", status="done", content="Ships carried tea [1].")],
                  conclusion="", bibliography=[{"number": 1, "url": "https://example.org/ships", "title": "Ships"}],
                  metadata=ReportMetadata(topic="The tea trade", created_at="2026-01-01T00:00:00+00:00"))


def test_all_writes_markdown_html_and_json_side_by_side(tmp_path):
    paths = write_report_files(small_report(), tmp_path / "tea.md", tmp_path, ["markdown", "html", "json"])
    assert paths == [tmp_path / "tea.md", tmp_path / "tea.html", tmp_path / "tea.json"]
    assert paths[0].read_text().startswith("# Tea & ships")
    assert paths[1].read_text().startswith("<!DOCTYPE html>") and "Tea &amp; ships" in paths[1].read_text()
    assert json.loads(paths[2].read_text())["title"] == "Tea & ships"


def test_html_alone_still_gets_its_json_and_a_stamped_name_with_the_html_suffix(tmp_path):
    [page] = write_report_files(small_report(), None, tmp_path / "out", ["html"])
    assert page.parent == tmp_path / "out" and page.name.startswith("the-tea-trade-") and page.suffix == ".html"
    assert page.with_suffix(".json").exists() and not page.with_suffix(".md").exists()


def test_the_default_stays_markdown_with_json_beside_it(tmp_path):
    path = write_report(small_report(), tmp_path / "report.txt", tmp_path)
    assert path == tmp_path / "report.txt" and path.read_text().startswith("# ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.txt"]


@pytest.mark.parametrize(("name", "formats"), [("r.json", ["markdown"]), ("r.html", ["markdown", "html", "json"])])
def test_a_name_two_files_would_share_is_refused(tmp_path, name, formats):
    with pytest.raises(typer.BadParameter, match="would hold both"):
        report_paths(tmp_path / name, formats)


def test_a_bad_format_or_out_fails_before_any_research_starts(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["research", "The tea trade", "--format", "pdf"])
    assert bad.exit_code == 2 and "--format" in bad.output and "'pdf' is not one of" in bad.output
    clash = runner.invoke(app, ["research", "The tea trade", "--out", str(tmp_path / "r.json")])
    assert clash.exit_code == 2 and "--out" in clash.output and "would hold both the markdown and the json" in clash.output
    listed = runner.invoke(app, ["report", "some-thread", "--format", "all"])
    assert listed.exit_code == 2 and "--format" in listed.output and "say where with --out" in listed.output
    assert not list(tmp_path.iterdir())


def test_research_says_why_the_report_is_shorter_than_asked(tmp_path, monkeypatch):
    """A 5-section request that prints 4 tells the person at the terminal which section went and why."""
    from nexa_research.cli import commands

    left_out = "section \"Uncle Tom's Cabin\" was left out: everything its sources say is already in another section"

    async def finished(topic, overrides, thread_id, quiet):
        report = small_report()
        report.metadata.warnings.append(left_out)
        return report

    monkeypatch.setattr(commands, "_run_with_progress", finished)
    done = CliRunner().invoke(app, ["research", "The tea trade", "--sections", "5", "--out-dir", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert f"note: {left_out}" in " ".join(done.output.split())
