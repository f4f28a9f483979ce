"""The eval history: one JSON line per eval run, so runs can be compared over models, prompts and commits.

Each line carries what is needed to tell runs apart and to compare like with like: the date, the git commit
(and whether the tree had uncommitted changes), the command options, the model labels per role and the prompt
versions (read from the reports), the thresholds used, the aggregate scores with the targets met, and one row
per topic. `grouped` orders runs by (models, prompt versions), the grouping `nexa eval history` prints.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from nexa_research.evals.aggregate import (
    Aggregate,
    TopicRow,
    aggregate,
    informational_results,
    target_results,
    topic_row,
)
from nexa_research.evals.scorer import ReportEval
from nexa_research.evals.thresholds import Thresholds

logger = logging.getLogger(__name__)

_LOOPBACK = re.compile(r"https?://(?:127\.0\.0\.1|localhost|\[::1\]):\d+(?:/v1)?")


class FailedTopic(BaseModel):
    topic: str
    category: str = ""
    error: str
    seconds: float | None = None


class EvalRun(BaseModel):
    run_id: str
    date: str
    git_commit: str | None
    git_dirty: bool | None
    command: dict[str, Any]
    models: dict[str, list[str]]
    prompt_versions: dict[str, str]
    thresholds: dict[str, float]
    judge: str | None = None
    aggregate: Aggregate
    targets: dict[str, bool | None]
    informational: dict[str, bool | None] = Field(default_factory=dict)
    topics: list[TopicRow]
    failures: list[FailedTopic] = Field(default_factory=list)

    def group_key(self) -> str:
        """What makes two runs comparable: the models per role and the prompt versions. The embedded llama.cpp
        server listens on a random local port, so loopback addresses are not part of a model's identity."""
        models = "; ".join(f"{role}={'/'.join(_stable(label) for label in labels)}" for role, labels in sorted(self.models.items()))
        prompts = ", ".join(f"{role}:{version}" for role, version in sorted(self.prompt_versions.items()))
        return f"models: {models or 'unknown'} | prompts: {prompts or 'unknown'}"


def _stable(label: str) -> str:
    return _LOOPBACK.sub("local", label)


def git_state(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, has uncommitted changes) of the checkout the command runs in, or (None, None) outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=cwd, capture_output=True, text=True, check=True, timeout=10)
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        logger.info("no git commit recorded: %s", exc)
        return None, None
    return commit.stdout.strip(), bool(status.stdout.strip())


def merged_models(evals: Sequence[ReportEval]) -> dict[str, list[str]]:
    """Model labels per role over all reports; a role whose reports disagree lists every label seen, in order."""
    out: dict[str, list[str]] = {}
    for e in evals:
        for role, labels in e.models.items():
            seen = out.setdefault(role, [])
            seen += [label for label in labels if label not in seen]
    return out


def merged_prompts(evals: Sequence[ReportEval]) -> dict[str, str]:
    """Prompt version per role; versions that differ between reports are joined with '/'."""
    out: dict[str, list[str]] = {}
    for e in evals:
        for role, version in e.prompt_versions.items():
            if version not in out.setdefault(role, []):
                out[role].append(version)
    return {role: "/".join(versions) for role, versions in out.items()}


def make_run(
    evals: Sequence[ReportEval],
    *,
    command: dict[str, Any],
    thresholds: Thresholds,
    failures: Sequence[FailedTopic] = (),
    judge: str | None = None,
    run_id: str | None = None,
    checkout: tuple[str | None, bool | None] | None = None,
) -> EvalRun:
    """`checkout`: (commit, dirty) as `git_state` read it when the reports were made; read now if not given."""
    now = datetime.now(UTC)
    commit, dirty = checkout if checkout is not None else git_state()
    agg = aggregate(evals, failed=len(failures))
    return EvalRun(
        run_id=run_id or now.strftime("%Y%m%d-%H%M%S"),
        date=now.isoformat(timespec="seconds"),
        git_commit=commit,
        git_dirty=dirty,
        command=command,
        models=merged_models(evals),
        prompt_versions=merged_prompts(evals),
        thresholds=thresholds.as_dict(),
        judge=judge,
        aggregate=agg,
        targets=target_results(agg),
        informational=informational_results(agg),
        topics=[topic_row(e) for e in evals],
        failures=list(failures),
    )


def append_run(path: Path, run: EvalRun) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(run.model_dump_json() + "\n")


def read_runs(path: Path) -> list[EvalRun]:
    runs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            runs.append(EvalRun.model_validate_json(line))
        except ValidationError as exc:
            raise ValueError(f"{path}:{number} is not an eval run line: {exc}") from exc
    return runs


def grouped(runs: Sequence[EvalRun]) -> dict[str, list[EvalRun]]:
    """Runs by (models, prompt versions), each group oldest first, groups in order of their latest run."""
    groups: dict[str, list[EvalRun]] = {}
    for run in sorted(runs, key=lambda r: r.date):
        groups.setdefault(run.group_key(), []).append(run)
    return dict(sorted(groups.items(), key=lambda item: item[1][-1].date))
