"""The eval dataset and the calibration file are sound: every expected and relevant article exists in the offline
corpus, the tuning and held-out sets spread over the six fields without sharing a subject, and every threshold the
evaluators read was calibrated and says how well. The held-out topics are not named here: its developers should
not read them."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from nexa_research.errors import ResearchInputError
from nexa_research.evals.dataset import (
    EvalTopic,
    load_topics,
    missing_from_corpus,
    packaged_relevant_urls,
    topics_path,
)
from nexa_research.evals.thresholds import MEASURES, data_path, load_thresholds
from nexa_research.kernel.calibration import calibration_path

CATEGORIES = {"history", "science", "geography", "arts", "technology", "economics"}


SETS = ("tuning", "quick", "heldout")


@pytest.mark.parametrize("name", SETS)
def test_every_expected_and_relevant_url_is_in_the_corpus(name):
    topics = load_topics(topics_path(name))
    assert all(t.relevant_urls for t in topics)
    assert missing_from_corpus(topics) == []


def test_a_url_missing_from_the_corpus_is_reported():
    topic = EvalTopic(topic="Made up", expect_urls=[], relevant_urls=["https://en.wikipedia.org/wiki/No_such_article_x"])
    assert missing_from_corpus([topic]) == [("Made up", "https://en.wikipedia.org/wiki/No_such_article_x")]


@pytest.mark.parametrize("name", SETS)
def test_relevant_lists_hold_8_to_15_articles_including_the_expected_ones(name):
    for t in load_topics(topics_path(name)):
        assert 8 <= len(t.relevant_urls) <= 15 and len(set(t.relevant_urls)) == len(t.relevant_urls), t.topic
        assert set(t.expect_urls) <= set(t.relevant_urls), t.topic


def test_the_default_file_is_the_tuning_set_and_quick_is_a_subset_of_it():
    tuning = load_topics()
    assert tuning == load_topics(topics_path("tuning"))
    quick = load_topics(topics_path("quick"))
    assert len(quick) == 6 and all(t in tuning for t in quick)
    assert {t.category for t in quick} == CATEGORIES
    with pytest.raises(ResearchInputError, match="heldout"):
        topics_path("validation")


def test_heldout_set_is_large_varied_and_shares_no_subject_with_tuning():
    heldout, tuning = load_topics(topics_path("heldout")), load_topics()
    assert len(heldout) >= 12 and len({t.topic for t in heldout}) == len(heldout)
    counts = Counter(t.category for t in heldout)
    assert set(counts) == CATEGORIES and min(counts.values()) >= 2
    assert all(2 <= len(t.expect_urls) <= 4 for t in heldout)
    tuning_expected = {u for t in tuning for u in t.expect_urls}
    assert not {u for t in heldout for u in t.expect_urls} & tuning_expected
    assert not {t.topic.lower() for t in heldout} & {t.topic.lower() for t in tuning}
    phrasings = [t.topic.lower() for t in heldout]
    assert sum(w in p.split() for p in phrasings for w in ("why", "how", "causes", "origins")) >= 3
    assert sum(" and " in p for p in phrasings) >= 3


def test_relevant_urls_of_a_packaged_topic_are_found_only_with_its_expected_urls():
    case = load_topics()[0]
    assert packaged_relevant_urls(case.topic.upper(), case.expect_urls) == case.relevant_urls
    assert packaged_relevant_urls(case.topic, case.expect_urls[:1]) is None
    assert packaged_relevant_urls("A topic of nobody's", case.expect_urls) is None


def test_topics_are_many_varied_and_have_two_to_four_expected_articles():
    topics = load_topics()
    assert len(topics) >= 20
    assert len({t.topic for t in topics}) == len(topics)
    counts = Counter(t.category for t in topics)
    assert set(counts) == CATEGORIES and min(counts.values()) >= 3
    assert all(2 <= len(t.expect_urls) <= 4 for t in topics)


def test_calibration_records_each_threshold_with_its_quality():
    calibration = json.loads(calibration_path().read_text(encoding="utf-8"))
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


def test_the_documents_set_lists_pages_of_its_folder():
    topics = load_topics(topics_path("documents"))
    assert len(topics) >= 8 and len({t.topic for t in topics}) == len(topics)
    for t in topics:
        assert t.category == "documents" and 2 <= len(t.expect_urls) <= 4, t.topic
        assert 8 <= len(t.relevant_urls) <= 15 and len(set(t.relevant_urls)) == len(t.relevant_urls), t.topic
        assert set(t.expect_urls) <= set(t.relevant_urls), t.topic
        assert all("://" not in u and u.endswith(".html") for u in t.relevant_urls), t.topic
    assert packaged_relevant_urls(topics[0].topic, topics[0].expect_urls) == topics[0].relevant_urls
