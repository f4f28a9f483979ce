"""A PNG of one eval run: per-topic shares against their targets, and per-topic counts of defects.

A table answers "how did topic X do"; a picture answers "which topics drag the run down" at a glance. Drawn with
matplotlib's Agg backend, so it needs no display.
"""

from __future__ import annotations

from pathlib import Path

from nexa_research.evals.history import EvalRun


def _short(topic: str, limit: int = 38) -> str:
    return topic if len(topic) <= limit else topic[: limit - 1] + "…"


def write_plot(run: EvalRun, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = run.topics
    labels = [_short(r.topic) for r in rows] or ["(no reports)"]
    y = np.arange(len(labels))
    height = max(3.0, 0.45 * len(labels) + 1.5)
    fig, (shares, counts) = plt.subplots(1, 2, figsize=(14, height), sharey=True)

    series = [("on-topic sources", [r.on_topic for r in rows], 0.90),
              ("supported sentences", [r.supported for r in rows], 0.95),
              ("expected-source recall", [r.recall for r in rows], 2 / 3),
              ("relevant-source recall", [r.relevant_recall for r in rows], 0.60)]
    bar = 0.8 / len(series)
    for i, (name, values, target) in enumerate(series):
        color = f"C{i}"
        offsets = y - 0.4 + bar * (i + 0.5)
        shares.barh(offsets[: len(rows)], [v if v is not None else 0 for v in values], height=bar, color=color, label=name)
        shares.axvline(target, color=color, linestyle="--", linewidth=1)
    shares.set_xlim(0, 1.05)
    shares.set_xlabel("share (dashed: target)")
    shares.set_yticks(y, labels)
    shares.invert_yaxis()
    shares.legend(loc="lower right", fontsize="small")

    left = np.zeros(len(rows))
    for i, (name, defects) in enumerate([("title issues", [r.title_problems for r in rows]),
                                         ("unsupported sections", [r.unsupported_sections for r in rows]),
                                         ("fragments", [r.fragments for r in rows]),
                                         ("near-duplicate pairs", [r.near_duplicates for r in rows]),
                                         ("self-references", [r.self_references for r in rows])]):
        counts.barh(y[: len(rows)], defects, left=left, color=f"C{i + 4}", label=name)
        left += np.asarray(defects, dtype=float)
    counts.set_xlabel("defects (target: 0)")
    counts.legend(loc="lower right", fontsize="small")

    passed = sum(1 for v in run.targets.values() if v)
    applicable = sum(1 for v in run.targets.values() if v is not None)
    fig.suptitle(f"Eval {run.run_id}: {passed}/{applicable} targets met, {run.aggregate.reports} reports"
                 + (f", {run.aggregate.failed} failed" if run.aggregate.failed else ""))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
