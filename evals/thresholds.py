"""The cut-offs the evaluators apply, read from the one calibration file (nexa_research.kernel.calibration,
graph/kernel/calibration.json; written by `calibrate`), whose measures the pipeline reads too.

A threshold on a cosine means nothing until it is checked against labelled examples, so no evaluator carries a
number of its own: each reads the one calibrated for its measure on a hand-labelled set, and the file says how
well that threshold separated the set (precision, recall, F1), so a reader can judge the measure itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from nexa_research.kernel.calibration import CalibrationError, calibration_path

MEASURES = ("source_relevance", "section_support", "sentence_support", "duplicate_sentence", "duplicate_title")


def data_path(name: str) -> Path:
    """A file shipped in the evals data folder (inside the installed package as well as in the checkout)."""
    return Path(str(files("nexa_research.evals").joinpath("data", name)))


@dataclass(frozen=True)
class Thresholds:
    """Cosine cut-offs, each calibrated on its own labelled set.

    source_relevance: a cited passage is on the report's topic (topic vs "title\\npassage").
    section_support: a cited passage is about its section ("section title (topic)" vs "title\\npassage").
    sentence_support: a cited sentence says what some sentence of its cited passages says.
    duplicate_sentence: two sentences of the report say the same thing.
    duplicate_title: two section titles name the same section.
    """

    source_relevance: float
    section_support: float
    sentence_support: float
    duplicate_sentence: float
    duplicate_title: float

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in MEASURES}


def load_thresholds(path: Path | None = None) -> Thresholds:
    path = path or calibration_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Thresholds(**{name: float(data["measures"][name]["threshold"]) for name in MEASURES})
    except (OSError, json.JSONDecodeError) as exc:
        raise CalibrationError(
            f"cannot read {path}: {exc}; write it with: python -m nexa_research.evals.calibrate"
        ) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(f"{path} lacks a threshold ({exc}); re-run: python -m nexa_research.evals.calibrate") from exc
