"""CPU per run in one process: the research graph on simulated providers, with and without the Redis checkpointer.

    .venv/bin/python bench/bench_run_cpu.py [--runs 25] [--rounds 3]

What a worker spends on a run apart from waiting, without the server around it: `time.process_time()` over N runs
started at once on one `ResearchRuntime` (bench_server's simulated providers and knobs: 3 sections, 1 round, model
calls 0.5 s, searches 0.2 s), in three configurations, each in a fresh process:
- `none`: no checkpointer (the graph and its nodes alone);
- `redis`: the Redis checkpointer as shipped (durability "sync", providers/checkpoint_serializer.py);
- `redis-library-serializer`: the same with langgraph-checkpoint-redis's own JsonPlusRedisSerializer.
An embedded Redis Stack of its own is started in a temporary folder (stopped at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MODES = ("none", "redis", "redis-library-serializer")


async def measure(runs: int, mode: str) -> float:
    sys.path.insert(0, str(BENCH))
    from bench_server import KNOBS, providers

    from nexa_research.runtime import ResearchRuntime

    async with ResearchRuntime(providers(), use_cache=False) as runtime:
        if mode == "redis-library-serializer":
            from langgraph.checkpoint.redis.jsonplus_redis import JsonPlusRedisSerializer

            runtime.checkpointer.serde = JsonPlusRedisSerializer()

        async def one() -> dict:
            config = {"configurable": {"thread_id": str(uuid.uuid4()), **KNOBS}}
            return await runtime.run({"topic": "The history of the printing press"}, config)

        await one()  # warm: models, graph, connections
        start = time.process_time()
        results = await asyncio.gather(*[one() for _ in range(runs)])
        spent = time.process_time() - start
        assert all(r.get("report") for r in results), "a run ended without a report"
        return spent * 1000 / runs


def child(runs: int, mode: str) -> None:
    print(f"{asyncio.run(measure(runs, mode)):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per configuration (median reported)")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.runs, args.child)
        return
    from nexa_research.providers.services.openssl import find_libssl11
    from nexa_research.providers.services.redis_embedded import EmbeddedRedis
    from nexa_research.providers.settings import ProviderSettings

    folder = Path(tempfile.mkdtemp(prefix="nexa-bench-cpu-"))
    redis = EmbeddedRedis(folder / "redis", lib_dir=find_libssl11(ProviderSettings.load()), idle_minutes=0)
    url = redis.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXA_", "REDIS_"))}
        env.update({"REDIS_URL": url, "NEXA_CACHE": "false", "LANGSMITH_TRACING": "false",
                    "NEXA_DATA_DIR": str(folder / "data"), "BENCH_LLM_LATENCY": "0.5", "BENCH_SEARCH_LATENCY": "0.2"})
        print(f"{args.runs} runs at once, {args.rounds} rounds; CPU ms per run (median, all rounds)")
        for mode in MODES:
            env["NEXA_CHECKPOINTER"] = "none" if mode == "none" else "redis"
            values = []
            for _ in range(args.rounds):
                out = subprocess.run([sys.executable, __file__, "--runs", str(args.runs), "--child", mode], env=env,
                                     capture_output=True, text=True, check=True)
                values.append(float(out.stdout.strip().splitlines()[-1]))
            print(f"| {mode} | {statistics.median(values):.1f} | {', '.join(f'{v:.1f}' for v in values)} |", flush=True)
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
