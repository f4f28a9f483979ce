"""End-to-end offline report: wall time, time per node, peak RSS (the llama.cpp server runs in this process).

    .venv/bin/python bench/bench_e2e.py [--topic "..."] [--sections 5] [--iterations 1] [--results 4]

Uses the embedded defaults (local model, local knowledge base in NEXA_DATA_DIR; run `make setup` and
`nexa ingest wikipedia` first) with an in-memory checkpointer, so Redis is not part of the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time

from nexa_research import aresearch


async def main(args: argparse.Namespace) -> None:
    os.environ.setdefault("NEXA_CHECKPOINTER", "in_memory")
    os.environ.setdefault("NEXA_CACHE", "false")
    started = time.perf_counter()
    first_section: list[float] = []

    def on_update(namespace, chunk):
        if not namespace and "research_paragraph" in chunk and not first_section:
            first_section.append(time.perf_counter() - started)

    report = await aresearch(
        args.topic, on_update=on_update, min_sections=args.sections, max_sections=args.sections,
        max_iterations=args.iterations, search_results=args.results, use_memory=False,
    )
    wall = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    meta = report.metadata
    print(f"topic: {args.topic}")
    print(f"sections: {len(report.sections)} ({len(report.missing_sections)} missing), cited sources: {len(report.bibliography)}")
    print(f"words in sections: {sum(len(s.content.split()) for s in report.sections)}")
    print(f"wall time: {wall:.1f} s; first section finished at {first_section[0] if first_section else float('nan'):.1f} s")
    print("node seconds (summed over parallel branches):")
    for node, seconds in sorted(meta.timings.items(), key=lambda kv: -kv[1]):
        print(f"  {node:<16} {seconds:8.1f}")
    print("tokens per role:", {r: t["output_tokens"] for r, t in meta.token_usage.items()})
    print(f"peak RSS: {rss_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--topic", default="The invention and spread of the printing press")
    parser.add_argument("--sections", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--results", type=int, default=4)
    asyncio.run(main(parser.parse_args()))
