"""Cost of checkpointing and value of the report cache, with simulated providers (fixed latency, no network).

    .venv/bin/python bench/bench_checkpointing.py [--runs 3] [--llm-latency 1.0] [--search-latency 0.2]

A 5-section, 3-iteration run: no checkpointer vs Redis (embedded Redis Stack) vs LangGraph's SQLite saver;
checkpoint put latency p50/p95 on Redis; cold run vs cached report.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simulated_providers import simulated_providers  # noqa: E402

from nexa_research import build_graph  # noqa: E402
from nexa_research.api import aresearch  # noqa: E402
from nexa_research.providers import ProviderSettings  # noqa: E402
from nexa_research.runtime import ResearchRuntime  # noqa: E402

KNOBS = {"max_iterations": 3, "min_sections": 5, "max_sections": 5, "search_results": 3, "retry_wait_seconds": 0}


async def one_run(checkpointer, providers) -> float:
    graph = build_graph(providers, checkpointer)
    config = {"configurable": {**KNOBS, "thread_id": f"bench-{time.time_ns()}"}}
    started = time.perf_counter()
    durability = {"durability": "sync"} if checkpointer is not None else {}
    await graph.ainvoke({"topic": "A simulated topic"}, config, **durability)
    return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(args: argparse.Namespace) -> None:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    providers = simulated_providers(args.llm_latency, args.search_latency)
    results: dict[str, list[float]] = {"none": [], "redis": [], "sqlite": []}
    settings = ProviderSettings(data_dir=Path(tempfile.mkdtemp()), checkpointer="redis", cache=True)
    async with ResearchRuntime(providers, settings=settings) as services, AsyncSqliteSaver.from_conn_string(
        str(Path(tempfile.mkdtemp()) / "ck.sqlite")
    ) as sqlite:
        for _ in range(args.runs):
            results["none"].append(await one_run(None, providers))
            results["redis"].append(await one_run(services.checkpointer, providers))
            results["sqlite"].append(await one_run(sqlite, providers))
        # put latency, measured on the saver directly with realistic checkpoints from one more run
        original = services.checkpointer.aput
        puts: list[float] = []

        async def timed_put(*a, **kw):
            started = time.perf_counter()
            try:
                return await original(*a, **kw)
            finally:
                puts.append(time.perf_counter() - started)

        services.checkpointer.aput = timed_put
        await one_run(services.checkpointer, providers)
        services.checkpointer.aput = original

    base = statistics.median(results["none"])
    print(f"{'checkpointer':<12} {'median s':>9} {'overhead':>9}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:<12} {median:>9.3f} {100 * (median / base - 1):>8.1f}%")
    print(f"redis checkpoint put: n={len(puts)} p50={1000 * pct(puts, 0.5):.2f} ms p95={1000 * pct(puts, 0.95):.2f} ms")

    import os

    os.environ.update(NEXA_DATA_DIR=str(settings.data_dir), NEXA_CHECKPOINTER="redis", NEXA_CACHE="true")
    topic = f"A cached topic {time.time_ns()}"
    started = time.perf_counter()
    await aresearch(topic, providers=providers, **KNOBS)
    cold = time.perf_counter() - started
    warm_times = []
    for _ in range(5):
        started = time.perf_counter()
        report = await aresearch(topic, providers=providers, **KNOBS)
        warm_times.append(time.perf_counter() - started)
        assert report.metadata.cache.get("report_hits") == 1
    warm = statistics.median(warm_times)
    print(f"report: cold {cold:.3f} s, cached {1000 * warm:.1f} ms, {cold / warm:.0f}x faster")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--llm-latency", type=float, default=1.0)
    parser.add_argument("--search-latency", type=float, default=0.2)
    asyncio.run(main(parser.parse_args()))
