"""The one calibration file (calibration.json beside this module), read by the pipeline and the evals alike.

Its `measures` are the evals' thresholds, each calibrated on a hand-labelled set (`nexa eval calibrate` writes
them, with precision and recall). Its `pipeline` block gives the research pipeline's cut-offs: where the pipeline
makes the same judgement as a measure (is this passage on the topic? does this sentence say what that one says?
are these two titles one section?) it names the measure and uses its threshold, so the planner can no longer pass
a title pair the eval counts as a duplicate; the cut-offs no label set covers are values with the reason they
were set. Editing a number here changes both sides at once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from nexa_research.errors import NexaError


class CalibrationError(NexaError):
    """The calibration file is missing, unreadable or lacks a value; re-run the calibration."""


def calibration_path() -> Path:
    return Path(str(files("nexa_research.kernel").joinpath("calibration.json")))


def read_calibration(path: Path | None = None) -> dict[str, Any]:
    path = path or calibration_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"cannot read {path}: {exc}; write it with: nexa eval calibrate") from exc


@lru_cache(maxsize=1)
def _packaged() -> dict[str, Any]:
    return read_calibration()


def _resolve(entry: dict[str, Any], measures: dict[str, Any], where: str) -> float:
    try:
        if "from" in entry:
            return float(measures[entry["from"]]["threshold"])
        return float(entry["value"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(f"{calibration_path()}: {where} has no usable value ({exc})") from exc


def scorer_thresholds(scorer: str) -> dict[str, float]:
    """The pipeline's cut-offs for one relevance scorer ("embedding" or "lexical"), by name."""
    data = _packaged()
    block = data.get("pipeline", {}).get(scorer)
    if not isinstance(block, dict):
        raise CalibrationError(f"{calibration_path()}: no pipeline thresholds for the {scorer!r} scorer")
    return {name: _resolve(entry, data.get("measures", {}), f"pipeline.{scorer}.{name}") for name, entry in block.items()}


def cutoff(name: str) -> float:
    """One of the pipeline's other cut-offs (`pipeline.cutoffs`), by name."""
    data = _packaged()
    entry = data.get("pipeline", {}).get("cutoffs", {}).get(name)
    if not isinstance(entry, dict):
        raise CalibrationError(f"{calibration_path()}: no cut-off {name!r} under pipeline.cutoffs")
    return _resolve(entry, data.get("measures", {}), f"pipeline.cutoffs.{name}")
