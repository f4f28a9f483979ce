"""Calibrate every threshold on its hand-labelled set and write them into the one calibration file
(nexa_research/kernel/calibration.json, read by the pipeline too).

    python -m nexa_research.evals.calibrate [--out PATH]

A cosine cut-off is only as good as the examples it was checked on. For each measure, the labelled pairs in
data/ are embedded exactly as the evaluator embeds report text (the same functions build the texts), and the
threshold is the one that maximises F1 on the positive class (relevant / supported / duplicate); ties go to
higher accuracy, then to the wider gap between neighbouring scores. Candidates are midpoints between adjacent
observed scores. Because a threshold chosen on a set flatters itself on that set, a leave-one-out estimate is
recorded too (each example predicted with the threshold chosen on all the others). Misclassified examples are
kept in the file so a reader can see where each measure goes wrong.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nexa_research.evals.plan import section_query
from nexa_research.evals.similarity import Similarity
from nexa_research.evals.support import source_sentences
from nexa_research.evals.thresholds import MEASURES, data_path
from nexa_research.kernel.calibration import calibration_path, read_calibration
from nexa_research.providers.relevance import embedded_text

METHOD = (
    "threshold maximising F1 of the positive class over midpoints of adjacent scores (ties: accuracy, then the "
    "wider gap); leave-one-out estimate with the same rule"
)


@dataclass(frozen=True)
class Labelled:
    """One measure's labelled examples, scored: a cosine, the label and a short description of each."""

    scores: np.ndarray
    labels: np.ndarray
    kinds: list[str]
    texts: list[str]


def read_labels(name: str) -> list[dict[str, Any]]:
    lines = data_path(name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _confusion(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    tp = int((predicted & labels).sum())
    fp = int((predicted & ~labels).sum())
    fn = int((~predicted & labels).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = float((predicted == labels).mean()) if len(labels) else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "accuracy": round(accuracy, 3)}


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    values = np.unique(scores)
    if len(values) < 2:
        raise ValueError("calibration needs at least two distinct scores")
    best: tuple[float, float, float, float] | None = None
    for low, high in itertools.pairwise(values):
        threshold = float((low + high) / 2)
        stats = _confusion(scores >= threshold, labels)
        key = (stats["f1"], stats["accuracy"], float(high - low), threshold)
        if best is None or key[:3] > best[:3]:
            best = key
    assert best is not None
    return best[3]


def leave_one_out(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    predicted = np.zeros(len(scores), dtype=bool)
    for i in range(len(scores)):
        keep = np.arange(len(scores)) != i
        predicted[i] = scores[i] >= best_threshold(scores[keep], labels[keep])
    return _confusion(predicted, labels)


def summarise(data: Labelled, representation: str, labels_file: str) -> dict[str, Any]:
    threshold = best_threshold(data.scores, data.labels)
    predicted = data.scores >= threshold
    by_kind = {}
    for kind in sorted(set(data.kinds)):
        mask = np.array([k == kind for k in data.kinds])
        by_kind[kind] = {"n": int(mask.sum()), "accuracy": round(float((predicted[mask] == data.labels[mask]).mean()), 3)}
    wrong = [
        {"text": data.texts[i], "label": bool(data.labels[i]), "score": round(float(data.scores[i]), 4)}
        for i in np.flatnonzero(predicted != data.labels)
    ]
    return {
        "threshold": round(threshold, 4),
        "labels": labels_file,
        "representation": representation,
        "n": len(data.labels),
        "positives": int(data.labels.sum()),
        "negatives": int((~data.labels).sum()),
        **_confusion(predicted, data.labels),
        "leave_one_out": leave_one_out(data.scores, data.labels),
        "by_kind": by_kind,
        "misclassified": wrong,
    }


def _pairs(rows: Sequence[dict[str, Any]], label: str, left: Callable, right: Callable, describe: Callable,
           similarity: Similarity) -> Labelled:
    scores = similarity.pairs([left(r) for r in rows], [right(r) for r in rows])
    return Labelled(np.asarray(scores, dtype=float), np.array([bool(r[label]) for r in rows]),
                    [r.get("kind", "") for r in rows], [describe(r) for r in rows])


def _support(rows: Sequence[dict[str, Any]], similarity: Similarity) -> Labelled:
    scores = [float(similarity.matrix([r["sentence"]], source_sentences(r["passage"])).max()) for r in rows]
    return Labelled(np.array(scores), np.array([bool(r["supported"]) for r in rows]), [r["kind"] for r in rows],
                    [f"{r['sentence']} <- {r['title']}" for r in rows])


def calibrate(similarity: Similarity | None = None) -> dict[str, Any]:
    similarity = similarity or Similarity()
    relevance = read_labels("relevance_labels.jsonl")
    sections = read_labels("section_labels.jsonl")
    support = read_labels("support_labels.jsonl")
    duplicates = read_labels("duplicate_labels.jsonl")
    sentence_pairs = [r for r in duplicates if r["kind"] == "sentence"]
    title_pairs = [r for r in duplicates if r["kind"] == "title"]
    measures = {
        "source_relevance": summarise(
            _pairs(relevance, "relevant", lambda r: r["topic"], lambda r: embedded_text(r["title"], r["passage"]),
                   lambda r: f"{r['topic']} <- {r['title']}", similarity),
            "topic vs 'title\\npassage'", "relevance_labels.jsonl"),
        "section_support": summarise(
            _pairs(sections, "relevant", lambda r: section_query(r["section"], r["topic"]),
                   lambda r: embedded_text(r["title"], r["passage"]), lambda r: f"{r['section']} <- {r['title']}", similarity),
            "'section title (topic)' vs 'title\\npassage'", "section_labels.jsonl"),
        "sentence_support": summarise(
            _support(support, similarity), "sentence vs each sentence of the passage, best match", "support_labels.jsonl"),
        "duplicate_sentence": summarise(
            _pairs(sentence_pairs, "duplicate", lambda r: r["a"], lambda r: r["b"], lambda r: f"{r['a']} | {r['b']}", similarity),
            "sentence vs sentence", "duplicate_labels.jsonl (kind sentence)"),
        "duplicate_title": summarise(
            _pairs(title_pairs, "duplicate", lambda r: r["a"], lambda r: r["b"], lambda r: f"{r['a']} | {r['b']}", similarity),
            "title vs title", "duplicate_labels.jsonl (kind title)"),
    }
    assert set(measures) == set(MEASURES)
    return {
        "embedder": "sentence-transformers/all-MiniLM-L6-v2 (nexa_research.providers.kb.embeddings.default_embedder)",
        "method": METHOD,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "measures": measures,
    }


def markdown_table(calibration: dict[str, Any]) -> str:
    rows = ["| measure | labelled (pos/neg) | threshold | precision | recall | F1 | leave-one-out F1 |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, m in calibration["measures"].items():
        rows.append(f"| {name} | {m['n']} ({m['positives']}/{m['negatives']}) | {m['threshold']:.3f} | {m['precision']:.2f} "
                    f"| {m['recall']:.2f} | {m['f1']:.2f} | {m['leave_one_out']['f1']:.2f} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default: the one calibration file, nexa_research/kernel/calibration.json)")
    args = parser.parse_args(argv)
    calibration = calibrate()
    out = args.out or calibration_path()
    if out.exists():  # the pipeline's block (and anything else) is kept; only the measures are re-calibrated
        calibration = {**read_calibration(out), **calibration}
    out.write_text(json.dumps(calibration, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown_table(calibration))
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
