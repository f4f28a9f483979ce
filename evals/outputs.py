"""Everything one eval run leaves on disk: the Markdown table, the PNG, the full scores, a line in the history.

    OUT/history.jsonl          one line per run (all runs in OUT)
    OUT/RUN_ID/eval.md         targets, per-topic table, findings
    OUT/RUN_ID/eval.png        per-topic shares and defect counts
    OUT/RUN_ID/evals.json      every ReportEval in full (every offending sentence and source)
    OUT/RUN_ID/reports/        the reports themselves, when the run wrote them
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nexa_research.evals.history import EvalRun, append_run
from nexa_research.evals.scorer import ReportEval
from nexa_research.evals.table import run_markdown

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunFiles:
    markdown: Path
    scores: Path
    history: Path
    plot: Path | None
    plot_error: str | None = None


def write_run_outputs(run: EvalRun, evals: Sequence[ReportEval], run_dir: Path, history: Path) -> RunFiles:
    """Write the table, the full scores, the history line, then the plot (the one part with an optional dependency:
    without matplotlib the rest is still written and the reason is returned)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    markdown = run_dir / "eval.md"
    markdown.write_text(run_markdown(run, evals), encoding="utf-8")
    scores = run_dir / "evals.json"
    scores.write_text(json.dumps([e.model_dump(mode="json") for e in evals], indent=2, ensure_ascii=False), encoding="utf-8")
    append_run(history, run)
    try:
        from nexa_research.evals.plot import write_plot

        plot = write_plot(run, run_dir / "eval.png")
    except ImportError as exc:
        reason = f"no plot: {exc} (install it with: pip install 'nexa-research[eval]')"
        logger.warning(reason)
        return RunFiles(markdown, scores, history, None, reason)
    return RunFiles(markdown, scores, history, plot)
