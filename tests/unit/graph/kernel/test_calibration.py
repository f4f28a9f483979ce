"""The one calibration file: the pipeline and the evals read the same numbers (nexa_research.kernel.calibration)."""

from __future__ import annotations

import json

import pytest

from nexa_research.evals.thresholds import load_thresholds
from nexa_research.kernel import calibration
from nexa_research.providers.relevance import EmbeddingRelevance, LexicalRelevance


def test_the_pipeline_judges_by_the_evals_calibrated_thresholds():
    evals = load_thresholds()
    pipeline = EmbeddingRelevance.thresholds
    assert pipeline.on_topic == evals.source_relevance
    assert pipeline.supports == evals.sentence_support
    assert pipeline.duplicate == evals.duplicate_sentence
    assert pipeline.duplicate_title == evals.duplicate_title  # the planner's cut was looser (0.80 vs 0.757)


def test_every_other_cut_off_says_how_it_was_set():
    data = calibration.read_calibration()
    for scorer in ("embedding", "lexical"):
        for name, entry in data["pipeline"][scorer].items():
            assert "from" in entry or entry.get("how"), name
    for name, entry in data["pipeline"]["cutoffs"].items():
        assert entry.get("how") and calibration.cutoff(name) == entry["value"], name
    assert LexicalRelevance.thresholds.on_topic == data["pipeline"]["lexical"]["on_topic"]["value"]


def test_a_broken_file_names_itself_and_what_to_run(tmp_path):
    broken = tmp_path / "calibration.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(calibration.CalibrationError, match="calibration.json.*nexa eval calibrate"):
        calibration.read_calibration(broken)
    good = json.loads(calibration.calibration_path().read_text(encoding="utf-8"))
    assert {"measures", "pipeline"} <= set(good)
