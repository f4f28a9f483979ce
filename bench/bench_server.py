"""Throughput, latency and memory of the server: the API under uvicorn and `nexa worker` processes on one Redis.

    .venv/bin/python bench/bench_server.py [--quick] [--workers 1,2,4] [--runs 20,100] [--auth required|off]
        [--worker-nice 10]
        [--llm-latency 0.5] [--search-latency 0.2] [--joins N] [--keep]

Simulated providers (fixed latency, no network) are loaded by every process through
NEXA_SERVER_PROVIDERS=bench_server:providers, so what is measured is the server and the graph machinery. For 1,
2 and 4 workers (100 slots in all), 20 and then 100 stateless runs are created at once with langgraph_sdk and
joined. Latency is a run record's created_at to its final updated_at, also as a ratio of one run alone on the idle
server; GET /threads/{t}/runs/{r} is timed idle and during the load; worker RSS at its peak minus idle, per run
in flight; CPU of every process and Redis commands, per run. `--quick`: 1 and 2 workers, 20 runs.

With auth required (the default), runs are spread over "custom" tier keys, as many as its concurrent-run cap
needs, and the request rate limits are raised out of the way (they are not what is measured).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from simulated_providers import SimulatedModel, SimulatedSearch  # noqa: E402

SECTIONS = 3
SUBJECTS = ("Movable type foundries", "Paper mills along the Rhine", "Licensing of Venetian printers")
KNOBS = {"max_iterations": 1, "min_sections": SECTIONS, "max_sections": SECTIONS, "use_memory": False,
         "search_results": 3, "retry_wait_seconds": 0}


class SubjectPlanner(SimulatedModel):
    """The simulated planner, with titles that name subjects: the plan checks (nodes/checks/plan.py) reject
    simulated_providers' "Part 0", "Part 1" as generic and as duplicates, and the run fails after three plans."""

    def _answer(self, messages) -> str:
        return json.dumps({"title": "Simulated", "paragraphs": [
            {"title": t, "outline": f"About {t.lower()}.", "questions": ["What is it?", "Why does it matter?"]}
            for t in SUBJECTS]})


def providers():
    """The factory the API and workers call (NEXA_SERVER_PROVIDERS=bench_server:providers)."""
    from nexa_research.providers import StaticProviders

    llm = float(os.environ["BENCH_LLM_LATENCY"])
    chat = {r: SimulatedModel(role=r, latency=llm, sections=SECTIONS)
            for r in ("query_writer", "reflection", "synthesizer", "collator")}
    return StaticProviders(chat={**chat, "planner": SubjectPlanner(role="planner", latency=llm)},
                           search=SimulatedSearch(float(os.environ["BENCH_SEARCH_LATENCY"])))


def theoretical_path(llm: float, search: float) -> float:
    """plan; per section, in parallel: generate_query, search, synthesize (the model writes: the simulated providers
    have no relevance scorer for extractive writing); collate. One round: the iteration cap ends it, no reflect."""
    return 4 * llm + search


def proc_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def stamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


class Cluster:
    """An embedded Redis Stack, one API process and `workers` worker processes; `stop()` ends all of them."""

    def __init__(self, folder: Path, workers: int, concurrency: int, llm: float, search: float, auth: str,
                 keys: int, worker_nice: int = 10) -> None:
        self.folder, self.workers, self.concurrency, self.llm, self.search = folder, workers, concurrency, llm, search
        self.worker_nice = worker_nice
        self.auth, self.key_count, self.keys = auth, keys, [None]
        self.procs: list[subprocess.Popen] = []
        self.worker_pids: list[int] = []
        self.redis = None

    def start(self) -> None:
        import httpx

        from nexa_research.providers.services.openssl import find_libssl11
        from nexa_research.providers.services.redis_embedded import EmbeddedRedis
        from nexa_research.providers.services.redis_folder import read_record
        from nexa_research.providers.settings import ProviderSettings

        self.redis = EmbeddedRedis(self.folder / "redis", lib_dir=find_libssl11(ProviderSettings.load()), idle_minutes=0)
        self.redis_url = self.redis.start()
        self.redis_pid = read_record(self.redis.data_dir).pid
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXA_", "REDIS_", "OPENAI", "EXA_"))}
        env.update({
            "REDIS_URL": self.redis_url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false",
            "NEXA_DATA_DIR": str(self.folder / "data"), "LANGSMITH_TRACING": "false",
            "NEXA_SERVER_PROVIDERS": "bench_server:providers",
            "BENCH_LLM_LATENCY": str(self.llm), "BENCH_SEARCH_LATENCY": str(self.search),
            "NEXA_SERVER_AUTH": self.auth, "NEXA_SERVER_REQUESTS_PER_MINUTE_PER_KEY": "1000000",
            "NEXA_SERVER_REQUESTS_PER_MINUTE_PER_IP": "1000000", "NEXA_SERVER_WORKER_NICE": str(self.worker_nice),
            "PYTHONPATH": os.pathsep.join([str(BENCH), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        })
        if self.auth == "required":
            self.keys = asyncio.run(self._make_keys())
        port = socket.socket()
        port.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{port.getsockname()[1]}"
        self.api_pid = self._spawn(env, "api", ["-m", "uvicorn", "nexa_research.server.app:app", "--host", "127.0.0.1",
                                                "--port", str(port.getsockname()[1]), "--log-level", "warning"])
        port.close()
        self.worker_pids = [self._spawn(env, f"worker{i}", ["-m", "nexa_research.cli", "worker", "--concurrency",
                                                             str(self.concurrency)]) for i in range(self.workers)]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a server process exited: see {self.folder}/*.log")
            try:
                headers = {"x-api-key": self.keys[0]} if self.keys[0] else {}
                if httpx.get(f"{self.url}/info", headers=headers, timeout=2).json()["workers"] >= self.workers:
                    return
            except (httpx.TransportError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the API or its workers did not come up within 120 s: see {self.folder}/*.log")

    async def _make_keys(self) -> list[str]:
        from redis.asyncio import Redis

        from nexa_research.server.access.api_keys import KeyStore

        redis = Redis.from_url(self.redis_url)
        try:
            return [(await KeyStore(redis).create(f"bench{i}", "custom"))[0] for i in range(self.key_count)]
        finally:
            await redis.aclose()

    def _spawn(self, env: dict[str, str], name: str, args: list[str]) -> int:
        log = (self.folder / f"{name}.log").open("w")
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        self.procs.append(proc)
        return proc.pid

    def workers_rss_kb(self) -> int:
        return sum(proc_rss_kb(pid) for pid in self.worker_pids)

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: the workers, the API, the Redis server and this process (the client)."""
        return {"workers": sum(proc_cpu_seconds(pid) for pid in self.worker_pids), "api": proc_cpu_seconds(self.api_pid),
                "redis": proc_cpu_seconds(self.redis_pid), "client": time.process_time()}

    def redis_stats(self) -> tuple[Counter, int]:
        """Commands served so far, by name, and the bytes Redis holds."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            commands = Counter({k.removeprefix("cmdstat_"): v["calls"] for k, v in client.info("commandstats").items()})
            return commands, int(client.info("memory")["used_memory"])
        finally:
            client.close()

    def stop(self) -> None:
        from nexa_research.cli.serve import stop_processes

        stop_processes(self.procs)
        if self.redis is not None:
            self.redis.stop()


@dataclass
class Batch:
    runs: int
    latencies: list[float]  # successful runs only: a failed run ends early
    span: float  # first created_at to last finish
    gets: list[float]
    get_errors: int
    rss_mb: tuple[float, float]  # all workers: before the batch, peak
    rss_per_run_mb: float
    max_in_flight: int
    errors: Counter
    cpu_ms: dict[str, float]  # per run
    commands: Counter  # per batch
    redis_bytes: int  # per batch
    create_seconds: float
    load: tuple[float, float]


async def time_gets(http, path: str, stop: asyncio.Event | None = None, count: int = 200) -> tuple[list[float], int]:
    """Sequential GETs of one run, one every 20 ms: `count` of them, or (under load) until `stop`; (times, non-200s)."""
    times: list[float] = []
    errors = 0
    while (stop is None and len(times) + errors < count) or (stop is not None and not stop.is_set()):
        started = time.perf_counter()
        response = await http.get(path)
        if response.status_code == 200:
            times.append(time.perf_counter() - started)
        else:
            errors += 1
        await asyncio.sleep(0.02)
    return times, errors


async def one_run(client, topic: str) -> tuple[dict, float]:
    run = await client.runs.create(None, "nexa_research", input={"topic": topic}, context=KNOBS)
    await client.runs.join(run["thread_id"], run["run_id"])
    final = await client.runs.get(run["thread_id"], run["run_id"])
    if final["status"] != "success":
        raise RuntimeError(f"run {run['run_id']} ended {final['status']}")
    return final, stamp(final["updated_at"]) - stamp(final["created_at"])


async def batch(clients: list, http, cluster: Cluster, n: int, joins: int, patience: float) -> Batch:
    """Create `n` runs at once; join them, `joins` at a time (each waiting join holds one of the API's Redis
    connections), for at most `patience` seconds: a run still active then is counted as stuck."""
    idle_rss, samples, done = cluster.workers_rss_kb(), [], asyncio.Event()

    async def sample_rss() -> None:
        while not done.is_set():
            samples.append((time.time(), cluster.workers_rss_kb()))
            await asyncio.sleep(0.1)

    load_before, cpu_before, (commands_before, memory_before) = os.getloadavg()[0], cluster.cpu(), cluster.redis_stats()
    sampler = asyncio.create_task(sample_rss())
    started = time.perf_counter()
    created = await asyncio.gather(*(clients[i % len(clients)].runs.create(
        None, "nexa_research", input={"topic": f"Simulated topic number {i}"}, context=KNOBS) for i in range(n)))
    create_seconds = time.perf_counter() - started
    probe = asyncio.create_task(time_gets(http, f"/threads/{created[0]['thread_id']}/runs/{created[0]['run_id']}", done))
    slots = asyncio.Semaphore(joins or n)

    async def join(i: int, run: dict) -> dict:
        async with slots:
            return await clients[i % len(clients)].runs.join(run["thread_id"], run["run_id"])

    tasks = [asyncio.create_task(join(i, r)) for i, r in enumerate(created)]
    finished, unfinished = await asyncio.wait(tasks, timeout=patience)
    for task in unfinished:
        task.cancel()
    done.set()
    cpu = {k: (v - cpu_before[k]) / n * 1000 for k, v in cluster.cpu().items()}
    commands, memory = cluster.redis_stats()
    gets, get_errors = await probe
    await sampler
    finals = await asyncio.gather(*(clients[i % len(clients)].runs.get(r["thread_id"], r["run_id"])
                                    for i, r in enumerate(created)))
    errors = Counter(f"stuck {r['status']}" for r in finals if r["status"] in ("pending", "running"))
    for task in finished:
        error = task.exception() or (task.result() or {}).get("__error__")
        if error:
            errors[type(error).__name__ if isinstance(error, BaseException) else error["error"]] += 1
    spans = [(stamp(r["created_at"]), stamp(r["updated_at"]), r["status"]) for r in finals
             if r["status"] not in ("pending", "running")]
    in_flight = max((sum(1 for c, f, _ in spans if c <= t < f) for t, _ in samples), default=n) or 1
    return Batch(
        runs=n, latencies=[f - c for c, f, s in spans if s == "success"],
        span=max((f for _, f, _ in spans), default=0) - min((c for c, _, _ in spans), default=0) or float("nan"),
        gets=gets, get_errors=get_errors, rss_mb=(idle_rss / 1024, max(rss for _, rss in samples) / 1024),
        rss_per_run_mb=(max(rss for _, rss in samples) - idle_rss) / in_flight / 1024,
        max_in_flight=in_flight, errors=errors, cpu_ms=cpu, commands=commands - commands_before,
        redis_bytes=memory - memory_before, create_seconds=create_seconds, load=(load_before, os.getloadavg()[0]),
    )


async def measure(cluster: Cluster, sizes: list[int], joins: int, patience: float) -> dict:
    import httpx
    from langgraph_sdk import get_client

    clients = [get_client(url=cluster.url, api_key=key, timeout=httpx.Timeout(connect=10, read=1800, write=60, pool=None))
               for key in cluster.keys]
    headers = {"x-api-key": cluster.keys[0]} if cluster.keys[0] else {}
    async with httpx.AsyncClient(base_url=cluster.url, headers=headers, timeout=30) as http:
        warm, _ = await one_run(clients[0], "A warm-up topic")  # imports, index creation, first-call caches
        singles = [(await one_run(clients[0], f"A single run {i}"))[1] for i in range(3)]
        idle_gets, _ = await time_gets(http, f"/threads/{warm['thread_id']}/runs/{warm['run_id']}")
        batches = [await batch(clients, http, cluster, n, joins, patience) for n in sizes]
    return {"single": statistics.median(singles), "singles": singles, "idle_gets": idle_gets, "batches": batches}


HEADER = ("| workers x slots | runs | runs/min | latency p50 / p95 s | x single run p50 / p95 | GET idle p50 / p95 ms | "
          "GET under load p50 / p95 ms (n) | RSS MB per run in flight | CPU ms per run: workers / API / Redis / client "
          "| failed runs | load |")


def rows(workers: int, concurrency: int, result: dict) -> list[str]:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.1f} / {pct(values, 0.95) * 1000:.1f}"

    single, out = result["single"], []
    for b in result["batches"]:
        p50, p95 = (statistics.median(b.latencies), pct(b.latencies, 0.95)) if b.latencies else (float("nan"),) * 2
        failed = ", ".join(f"{k} {v}" for k, v in b.errors.items()) or "0"
        out.append(
            f"| {workers} x {concurrency} | {b.runs} | {b.runs / b.span * 60:.0f} | {p50:.2f} / {p95:.2f} | "
            f"{p50 / single:.2f} / {p95 / single:.2f} | {ms(result['idle_gets'])} | "
            f"{ms(b.gets)} ({len(b.gets)}{f', {b.get_errors} not 200' if b.get_errors else ''}) | "
            f"{b.rss_per_run_mb:.2f} ({b.max_in_flight}) | "
            f"{' / '.join(f'{b.cpu_ms[k]:.0f}' for k in ('workers', 'api', 'redis', 'client'))} | {failed} | "
            f"{b.load[0]:.1f}-{b.load[1]:.1f} |"
        )
    return out


def details(workers: int, result: dict) -> str:
    lines = []
    for b in result["batches"]:
        top = ", ".join(f"{k} {v / b.runs:.0f}" for k, v in b.commands.most_common(10))
        lines.append(f"  {workers} worker(s), {b.runs} runs: all created in {b.create_seconds:.2f} s; Redis commands "
                     f"per run {sum(b.commands.values()) / b.runs:.0f} ({top}); Redis memory per run "
                     f"{b.redis_bytes / b.runs / 1024:.0f} KiB; workers' RSS {b.rss_mb[0]:.0f} MB before, "
                     f"{b.rss_mb[1]:.0f} MB at peak")
    return "\n".join(lines)


def main() -> None:
    from nexa_research.server.access.tiers import TIERS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 2 workers, 20 runs (a smoke check)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to try, comma-separated")
    parser.add_argument("--runs", default="20,100", help="batch sizes, comma-separated")
    parser.add_argument("--slots", type=int, default=100, help="worker slots in all, split among the workers")
    parser.add_argument("--llm-latency", type=float, default=0.5)
    parser.add_argument("--search-latency", type=float, default=0.2)
    parser.add_argument("--joins", type=int, default=0, help="runs joined at once (default 0: all of them; each "
                        "waiting join holds one of the API's Redis connections)")
    parser.add_argument("--patience", type=float, default=120,
                        help="seconds to wait for a batch's runs; those still active are reported as stuck")
    parser.add_argument("--auth", choices=("required", "off"), default="required",
                        help="the server's NEXA_SERVER_AUTH (required: API keys, as deployed)")
    parser.add_argument("--worker-nice", type=int, default=10,
                        help="the workers' NEXA_SERVER_WORKER_NICE (default 10, the server's default; 0: same priority as the API)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, Redis AOF)")
    args = parser.parse_args()
    worker_counts = [1, 2] if args.quick else [int(w) for w in args.workers.split(",")]
    sizes = [20] if args.quick else [int(n) for n in args.runs.split(",")]
    plan = [(w, 20 if args.quick else args.slots) for w in worker_counts]
    theory = theoretical_path(args.llm_latency, args.search_latency)
    uptime = lambda: subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()  # noqa: E731
    print(f"start: {uptime()}; auth {args.auth}; worker nice {args.worker_nice}")
    print(f"model calls {args.llm_latency} s, searches {args.search_latency} s, {SECTIONS} sections, 1 round: "
          f"theoretical critical path {theory:.2f} s", flush=True)
    keys = -(-max(sizes) // TIERS["custom"].concurrent_runs)  # the tier caps each key's runs in progress
    table = []
    root = Path(tempfile.mkdtemp(prefix="nexa-bench-server-"))
    try:
        for workers, total_slots in plan:
            concurrency = max(1, total_slots // workers)
            (root / f"w{workers}").mkdir()
            cluster = Cluster(root / f"w{workers}", workers, concurrency, args.llm_latency, args.search_latency,
                              args.auth, keys, args.worker_nice)
            try:
                cluster.start()
                result = asyncio.run(measure(cluster, sizes, args.joins, args.patience))
            finally:
                cluster.stop()
            print(f"{workers} worker(s) x {concurrency}: one run alone "
                  f"{', '.join(f'{s:.2f}' for s in result['singles'])} s (median {result['single']:.2f} s = "
                  f"{result['single'] / theory:.2f}x theoretical)\n{details(workers, result)}", flush=True)
            table += rows(workers, concurrency, result)
    except BaseException:
        args.keep = True  # the logs say why
        raise
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
        print("\n".join(["", HEADER, "| --- " * 11 + "|", *table]))
        print(f"end: {uptime()}")


if __name__ == "__main__":
    main()
