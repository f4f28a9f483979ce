"""`nexa eval run|score|history|calibrate`: the evaluation suite (nexa_research.evals) from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from nexa_research.errors import NexaError
from nexa_research.evals.dataset import EvalTopic, expected_for, load_topics
from nexa_research.evals.history import EvalRun, FailedTopic, git_state, grouped, make_run, read_runs
from nexa_research.evals.outputs import write_run_outputs
from nexa_research.evals.scorer import Judge, ReportEval, score_report
from nexa_research.evals.similarity import Similarity
from nexa_research.evals.table import history_markdown, pct, run_markdown
from nexa_research.evals.thresholds import load_thresholds
from nexa_research.report import Report

console = Console(stderr=True)
eval_app = typer.Typer(help="Evaluate reports as a reader would: relevance, support, plan, repetition, fragments, recall.",
                       no_args_is_help=True)

DEFAULT_OUT = Path("eval-results")
JudgeModel = Annotated[str | None, typer.Option(help="Judge model for the optional LLM judge (or NEXA_EVAL_JUDGE_MODEL).")]
JudgeBaseUrl = Annotated[str | None, typer.Option(help="OpenAI-compatible base URL of the judge (or NEXA_EVAL_JUDGE_BASE_URL).")]
Strict = Annotated[bool, typer.Option(help="Exit with status 1 when a target is not met.")]


def _judge(model: str | None, base_url: str | None) -> Judge | None:
    from nexa_research.evals.judge import JudgeSettings, judge_model

    settings = JudgeSettings.from_env(model, base_url)
    if settings is None:
        return None
    return Judge(chat_model=judge_model(settings), label=settings.label())


def _finish(run: EvalRun, evals: list[ReportEval], out: Path | None, strict: bool) -> None:
    """Print the Markdown, write the files when `out` is given, and apply --strict."""
    typer.echo(run_markdown(run, evals))
    if out is not None:
        files = write_run_outputs(run, evals, out / run.run_id, out / "history.jsonl")
        console.print(f"written: {files.markdown}, {files.scores}, {files.plot or files.plot_error}; history: {files.history}")
    if strict and any(met is False for met in run.targets.values()):
        raise typer.Exit(code=1)


@eval_app.command()
def run(
    limit: Annotated[int | None, typer.Option(help="Only the first N topics.")] = None,
    sections: Annotated[int, typer.Option(help="Sections per report (3-7).")] = 5,
    iterations: Annotated[int | None, typer.Option(help="Research rounds per section (1-3); default: configured.")] = None,
    topics: Annotated[Path | None, typer.Option(help="Topics file (JSON lines); default: the packaged dataset.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for reports, results and history.jsonl.")] = DEFAULT_OUT,
    ingest_if_empty: Annotated[bool, typer.Option(help="Seed an empty local knowledge base with Wikipedia first.")] = False,
    collection: Annotated[str | None, typer.Option(help="Knowledge-base collection to research in (`nexa collections`).")] = None,
    judge_model: JudgeModel = None,
    judge_base_url: JudgeBaseUrl = None,
    strict: Strict = False,
) -> None:
    """Research every dataset topic (no cache), score each report, write table, plot and a history line."""
    from nexa_research.evals.runner import check_pages, ensure_knowledge_base, run_topics

    try:
        cases = load_topics(topics)[:limit]
        thresholds = load_thresholds()
        judge = _judge(judge_model, judge_base_url)
        if ingest_if_empty:
            ensure_knowledge_base()
        check_pages(cases, collection)
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    overrides: dict[str, Any] = {"min_sections": sections, "max_sections": sections}
    if collection is not None:
        overrides["kb_collection"] = collection
    if iterations is not None:
        overrides["max_iterations"] = iterations
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    checkout = git_state()  # the code that runs is the code at the start: commits made meanwhile are not in it

    def progress(case: EvalTopic, result: ReportEval | FailedTopic) -> None:
        if isinstance(result, FailedTopic):
            console.print(f"[red]failed[/red] {case.topic}: {result.error}")
        else:
            recall = result.recall.recall if result.recall else None
            console.print(f"done {case.topic}: {result.length.seconds:.0f} s, on-topic {pct(result.relevance.on_topic_share)}, "
                          f"supported {pct(result.support.supported_share)}, recall {pct(recall)}")

    outcome = run_topics(cases, out / run_id / "reports", overrides, thresholds, judge, on_done=progress)
    command = {"command": "run", "limit": limit, "sections": sections, "iterations": iterations,
               "topics": str(topics) if topics else "packaged", "collection": collection,
               "judge": judge.label if judge else None}
    result = make_run(outcome.evals, command=command, thresholds=thresholds, failures=outcome.failures,
                      judge=judge.label if judge else None, run_id=run_id, checkout=checkout)
    _finish(result, outcome.evals, out, strict)


@eval_app.command()
def score(
    reports: Annotated[list[Path], typer.Argument(help="Report JSON files (as `nexa research` writes them).")],
    topics: Annotated[Path | None, typer.Option(help="Topics file for expected sources; default: the packaged dataset.")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write table, plot, scores and a history line here.")] = None,
    judge_model: JudgeModel = None,
    judge_base_url: JudgeBaseUrl = None,
    strict: Strict = False,
) -> None:
    """Score existing report files and print the table with the findings behind every lost point."""
    try:
        dataset = load_topics(topics)
        thresholds = load_thresholds()
        judge = _judge(judge_model, judge_base_url)
        parsed = [(path, Report.from_json(path.read_bytes())) for path in reports]
    except (NexaError, OSError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    similarity = Similarity()
    evals = []
    for path, report in parsed:
        case = expected_for(report.topic, dataset)
        evals.append(score_report(report, expect_urls=case.expect_urls if case else None, category=case.category if case else "",
                                  file=path, thresholds=thresholds, similarity=similarity, judge=judge))
    command = {"command": "score", "reports": [str(p) for p in reports], "judge": judge.label if judge else None}
    _finish(make_run(evals, command=command, thresholds=thresholds, judge=judge.label if judge else None), evals, out, strict)


@eval_app.command()
def history(
    file: Annotated[Path, typer.Option(help="History file to read.")] = DEFAULT_OUT / "history.jsonl",
) -> None:
    """Every recorded eval run, grouped by models and prompt versions."""
    try:
        runs = read_runs(file)
    except (OSError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    typer.echo(history_markdown(grouped(runs)))


@eval_app.command()
def calibrate(
    out: Annotated[Path | None, typer.Option(help="Where to write; default: the one calibration file, nexa_research/kernel/calibration.json.")] = None,
) -> None:
    """Re-calibrate every threshold on the labelled sets and print precision, recall and F1."""
    from nexa_research.evals.calibrate import main

    raise typer.Exit(code=main(["--out", str(out)] if out else []))


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
