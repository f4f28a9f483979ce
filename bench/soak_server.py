"""The server's soak, long form: the scenario of tests/integration/server/test_soak.py, bigger and slower.

    .venv/bin/python bench/soak_server.py [--runs 60] [--workers 2] [--slots 10] [--llm-latency 10]
        [--retention 60] [--rounds 2] [--every 15] [--keep]

An embedded Redis Stack of its own, the API under uvicorn (`--timeout-graceful-shutdown 10`, as `nexa serve` runs
it) and `nexa worker` processes, all on 127.0.0.1, auth off (the tier's concurrent-run cap is not what is
measured). Simulated providers (bench/simulated_providers.py): a run is 4 model calls and a search on its critical
path. A burst of `--runs` runs at once; every `--every` seconds one process is stopped and replaced (a worker by
SIGTERM, the API by SIGKILL, a worker by SIGKILL, the API by SIGTERM: `--rounds` times); each run is streamed by a
client that reconnects whenever its stream breaks. Then NEXA_RETENTION_DAYS (`--retention` seconds) expires the
finished threads, and Redis memory is compared with what it was before the burst. Prints the figures that go into
bench/server.md: runs finished and how often, messages per run in the queue, each stop's time, Redis memory at
the baseline, at its peak, per finished run, over the batch and after retention, and where it went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TESTS = BENCH.parent / "tests"
sys.path[:0] = [str(BENCH), str(TESTS)]

from support.server_harness import Cluster  # noqa: E402
from support.soak import DAY, GRACEFUL_API_SECONDS, SoakPlan, run_soak  # noqa: E402


def start(folder: Path, plan: SoakPlan) -> tuple[Cluster, str, object]:
    from nexa_research.providers.services.openssl import find_libssl11
    from nexa_research.providers.services.redis_embedded import EmbeddedRedis
    from nexa_research.providers.settings import ProviderSettings

    redis = EmbeddedRedis(folder / "redis", lib_dir=find_libssl11(ProviderSettings.load()), idle_minutes=0)
    url = redis.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXA_", "REDIS_", "OPENAI", "EXA_"))}
    env.update({
        "REDIS_URL": url, "NEXA_DATA_DIR": str(folder / "data"), "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false",
        "LANGSMITH_TRACING": "false", "NEXA_SERVER_AUTH": "off", "NEXA_SERVER_RECOVERY_SECONDS": "6",
        "NEXA_SERVER_HEARTBEAT_SECONDS": "1", "PYTHONPATH": os.pathsep.join([str(BENCH), str(TESTS)]), **plan.env(),
    })
    logs = folder / "logs"
    logs.mkdir()
    cluster = Cluster(env, logs)
    cluster.start_api(extra_args=["--timeout-graceful-shutdown", str(GRACEFUL_API_SECONDS)])
    for _ in range(plan.workers):
        cluster.start_worker(concurrency=plan.slots)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        import httpx

        if httpx.get(f"{cluster.url}/info", timeout=5).json()["workers"] >= plan.workers:
            return cluster, url, redis
        time.sleep(0.5)
    raise RuntimeError(f"workers did not come up: see {logs}")


def kib(n: float) -> str:
    return f"{n / 1024:,.0f} KiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=10, help="runs per worker")
    parser.add_argument("--llm-latency", type=float, default=10.0)
    parser.add_argument("--search-latency", type=float, default=1.0)
    parser.add_argument("--retention", type=float, default=60.0, help="NEXA_RETENTION_DAYS, in seconds")
    parser.add_argument("--rounds", type=int, default=2, help="times the four stops are played")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between stops")
    parser.add_argument("--linger", type=float, default=0, help="then sample Redis memory this long (seconds)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, Redis AOF)")
    args = parser.parse_args()
    plan = SoakPlan(
        runs=args.runs, workers=args.workers, slots=args.slots, llm_latency=args.llm_latency,
        search_latency=args.search_latency, retention_seconds=args.retention, every=args.every,
        disruptions=("sigterm-worker", "sigkill-api", "sigkill-worker", "sigterm-api") * args.rounds,
    )
    uptime = lambda: subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()  # noqa: E731
    print(f"start: {uptime()}\n{plan}\na run alone: {plan.run_seconds:.1f} s of simulated latency; "
          f"retention {args.retention:g} s = NEXA_RETENTION_DAYS {args.retention / DAY:.6f}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="nexa-soak-"))
    cluster = redis = None
    try:
        cluster, url, redis = start(folder, plan)
        report = asyncio.run(run_soak(cluster, url, plan, None))
        lingering = asyncio.run(linger(url, args.linger))
    except BaseException:
        args.keep = True
        raise
    finally:
        if cluster is not None:
            cluster.stop()
        if redis is not None:
            redis.stop()  # type: ignore[attr-defined]
        print(f"{'kept' if args.keep else 'removed'} {folder}")
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    finished = [r for r in report.runs if r.reported]
    memory = report.memory
    print(f"\nend: {uptime()}")
    print(f"runs accepted {len(report.runs)}, finished with their report {len(finished)}, success counted "
          f"{report.successes_counted}, other statuses {report.other_statuses_counted or 'none'}; end markers per run "
          f"{sorted(set(r.end_markers for r in report.runs))}; runs continued by another worker "
          f"{sum(r.attempts > 1 for r in report.runs)}; stream reconnects by the clients "
          f"{sum(r.reconnects for r in report.runs)}, repeated events {report.duplicate_event_ids}")
    print(f"burst {report.burst_seconds:.0f} s ({len(finished) / report.burst_seconds * 60:.1f} runs/min); "
          f"live messages per run at most {report.max_live_messages_per_run} ({report.samples} samples)")
    for stop in report.stops:
        took = f"{stop.seconds:.1f} s" if stop.seconds is not None else "NOT gone"
        print(f"  {stop.what}: gone in {took} (bound {stop.bound:g} s)")
    print(f"Redis used_memory: baseline {kib(memory['baseline'])}, peak {kib(memory['peak'])} "
          f"({kib((memory['peak'] - memory['baseline']) / max(1, len(report.runs)))} per run in the burst), after "
          f"retention {kib(memory['after'])} ({(memory['after'] / memory['baseline'] - 1) * 100:+.1f} %), "
          f"{report.retention_wait_seconds:.0f} s after the last run; thread keys left {report.leftover_keys}; "
          f"unfinished thread kept whole: {report.unfinished_kept}")
    print("over the batch (seconds since the burst, runs finished, used_memory):")
    for seconds, done, used in report.trend:
        print(f"  {seconds:6.0f} s  {done:4d}  {kib(used)}")
    print("where the memory is, baseline -> after:")
    for name in sorted(set(report.breakdown["baseline"]) | set(report.breakdown["after"])):
        before, after = report.breakdown["baseline"].get(name, 0), report.breakdown["after"].get(name, 0)
        print(f"  {name}: {before} -> {after}")
    for seconds, used in lingering:
        print(f"  {seconds:4.0f} s later: used_memory {kib(used)} (RediSearch GC forced)")
    print(json.dumps({"memory": memory, "stops": [vars(s) for s in report.stops]}))


async def linger(url: str, seconds: float) -> list[tuple[float, int]]:
    """Redis memory every 10 s for `seconds` after the soak, the server still up and idle."""
    from redis.asyncio import Redis

    from support.redis_memory import settled_memory

    redis, points, started = Redis.from_url(url), [], time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            await asyncio.sleep(10)
            points.append((time.monotonic() - started, await settled_memory(redis)))
    finally:
        await redis.aclose()
    return points


if __name__ == "__main__":
    main()
