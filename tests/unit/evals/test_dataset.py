"""The eval dataset and the calibration file are sound: every expected article exists in the offline corpus, the
topics spread over the six fields, and every threshold the evaluators read was calibrated and says how well."""

from __future__ import annotations

import json
from collections import Counter

from nexa_research.evals.dataset import load_topics, missing_from_corpus
from nexa_research.evals.thresholds import MEASURES, data_path, load_thresholds

CATEGORIES = {"history", "science", "geography", "arts", "technology", "economics"}


def test_every_expected_url_is_in_the_corpus():
    assert missing_from_corpus(load_topics()) == []


def test_topics_are_many_varied_and_have_two_to_four_expected_articles():
    topics = load_topics()
    assert len(topics) >= 20
    assert len({t.topic for t in topics}) == len(topics)
    counts = Counter(t.category for t in topics)
    assert set(counts) == CATEGORIES and min(counts.values()) >= 3
    assert all(2 <= len(t.expect_urls) <= 4 for t in topics)


def test_calibration_records_each_threshold_with_its_quality():
    calibration = json.loads(data_path("calibration.json").read_text(encoding="utf-8"))
    thresholds = load_thresholds().as_dict()
    for name in MEASURES:
        measure = calibration["measures"][name]
        assert measure["threshold"] == thresholds[name]
        assert measure["n"] == measure["positives"] + measure["negatives"] and measure["positives"] >= 10
        assert 0.7 <= measure["f1"] <= 1.0 and "f1" in measure["leave_one_out"]
    assert calibration["measures"]["source_relevance"]["n"] >= 60


def test_labelled_sets_are_balanced_enough_to_calibrate_on():
    for name, label in (("relevance_labels.jsonl", "relevant"), ("section_labels.jsonl", "relevant"),
                        ("support_labels.jsonl", "supported"), ("duplicate_labels.jsonl", "duplicate")):
        rows = [json.loads(line) for line in data_path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
        positives = sum(bool(r[label]) for r in rows)
        assert 0.3 <= positives / len(rows) <= 0.7, name
