"""CPU per run in one process: the research graph on simulated providers, with and without the Redis checkpointer.

    .venv/bin/python bench/bench_run_cpu.py [--runs 25] [--rounds 3] [--gc worker|default] [--modes none,redis,...]

What a worker spends on a run apart from waiting, without the server around it: `time.process_time()` over N runs
started at once on one `ResearchRuntime` (bench_server's simulated providers and knobs: 3 sections, 1 round, model
calls 0.5 s, searches 0.2 s), in four configurations, each in a fresh process:
- `none`: no checkpointer (the graph and its nodes alone);
- `redis`: the Redis checkpointer as shipped (durability "sync", providers/pipelined_saver.py and
  providers/checkpoint_serializer.py);
- `redis-library-writes`: the same saver with langgraph-checkpoint-redis's own `aput` and `aput_writes` (what
  shipped before the pipelined saver);
- `redis-library`: the library's `aput`, `aput_writes` and JsonPlusRedisSerializer (before both).
`--gc worker` (the default) tunes garbage collection after the warm-up run as `nexa worker` does after its startup
(server/process_gc.py); `--gc default` leaves Python's defaults, as a library user's process has them.
An embedded Redis Stack of its own is started in a temporary folder (stopped and removed at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MODES = ("none", "redis", "redis-library-writes", "redis-library")


async def measure(runs: int, mode: str, gc: str) -> float:
    sys.path.insert(0, str(BENCH))
    from bench_server import KNOBS, providers

    from nexa_research.runtime import ResearchRuntime

    if mode.startswith("redis-library"):
        use_library_writes(serializer=mode == "redis-library")
    async with ResearchRuntime(providers(), use_cache=False) as runtime:
        async def one() -> dict:
            config = {"configurable": {"thread_id": str(uuid.uuid4()), **KNOBS}}
            return await runtime.run({"topic": "The history of the printing press"}, config)

        await one()  # warm: models, graph, connections
        if gc == "worker":
            from nexa_research.server.process_gc import freeze_startup_objects

            freeze_startup_objects()
        start = time.process_time()
        results = await asyncio.gather(*[one() for _ in range(runs)])
        spent = time.process_time() - start
        assert all(r.get("report") for r in results), "a run ended without a report"
        return spent * 1000 / runs


def use_library_writes(serializer: bool) -> None:
    """In this (child) process, the pipelined saver's write paths are langgraph-checkpoint-redis's own again, and
    with `serializer` so is its serializer; the saver's other layers (connection-loss reporting) stay."""
    from langgraph.checkpoint.redis.aio import AsyncRedisSaver
    from langgraph.checkpoint.redis.jsonplus_redis import JsonPlusRedisSerializer

    from nexa_research.providers import pipelined_saver

    pipelined_saver.PipelinedAsyncRedisSaver.aput = AsyncRedisSaver.aput  # type: ignore[method-assign]
    pipelined_saver.PipelinedAsyncRedisSaver.aput_writes = AsyncRedisSaver.aput_writes  # type: ignore[method-assign]
    if serializer:
        pipelined_saver.FastJsonRedisSerializer = JsonPlusRedisSerializer  # type: ignore[misc]


def child(runs: int, mode: str, gc: str) -> None:
    print(f"{asyncio.run(measure(runs, mode, gc)):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per configuration (median reported)")
    parser.add_argument("--gc", choices=("worker", "default"), default="worker",
                        help="garbage collection as `nexa worker` tunes it, or Python's defaults")
    parser.add_argument("--modes", default=",".join(MODES), help="configurations to measure, comma-separated")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.runs, args.child, args.gc)
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
        print(f"{args.runs} runs at once, {args.rounds} rounds, gc {args.gc}; CPU ms per run (median, all rounds)")
        for mode in args.modes.split(","):
            env["NEXA_CHECKPOINTER"] = "none" if mode == "none" else "redis"
            values = []
            for _ in range(args.rounds):
                out = subprocess.run([sys.executable, __file__, "--runs", str(args.runs), "--gc", args.gc, "--child", mode],
                                     env=env, capture_output=True, text=True, check=True)
                values.append(float(out.stdout.strip().splitlines()[-1]))
            print(f"| {mode} | {statistics.median(values):.1f} | {', '.join(f'{v:.1f}' for v in values)} |", flush=True)
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
