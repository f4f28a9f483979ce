"""Run the research graph on evals/topics.jsonl with the configured providers and score each report.

    .venv/bin/python evals/run_evals.py [--limit N] [--sections 3] [--iterations 1] [--out evals/results.jsonl]

Uses whatever the environment selects (embedded llama.cpp + local knowledge base by default). Prints one JSON
line per topic: the deterministic checks of evals/report_checks.py, whether the expected source was cited, time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_checks import score_report  # noqa: E402

from nexa_research import aresearch  # noqa: E402
from nexa_research.persistence import close_loop_services  # noqa: E402
from nexa_research.urls import normalize_url  # noqa: E402


async def evaluate(topic: str, expect_urls: list[str], overrides: dict) -> dict:
    """One run through the library entry point, scored against the sources it retrieved (seen in its updates)."""
    sources: dict[str, dict] = {}

    def collect(namespace, chunk):
        for update in chunk.values():
            if isinstance(update, dict):
                sources.update({s["id"]: s for s in update.get("sources") or []})

    started = time.perf_counter()
    try:
        report = await aresearch(topic, on_update=collect, use_cache=False, **overrides)
    finally:
        await close_loop_services()
    score = score_report(report, list(sources.values())).as_dict()
    cited = {normalize_url(e.url) for e in report.bibliography}
    score["expected_source_cited"] = any(normalize_url(u) in cited for u in expect_urls)
    score["seconds"] = round(time.perf_counter() - started, 1)
    return {"topic": topic, **score}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sections", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cases = [json.loads(line) for line in (Path(__file__).parent / "topics.jsonl").read_text().splitlines() if line.strip()]
    overrides = {"min_sections": args.sections, "max_sections": args.sections, "max_iterations": args.iterations}
    rows = []
    for case in cases[: args.limit]:
        row = asyncio.run(evaluate(case["topic"], case["expect_urls"], overrides))
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
