"""Throughput, latency and memory of the server: the API under uvicorn and `nexa worker` processes on one Redis.

    .venv/bin/python bench/bench_server.py [--quick] [--llm-latency 0.5] [--search-latency 0.2]

Simulated providers (fixed latency, no network; bench/simulated_providers.py) are loaded by every process through
NEXA_SERVER_PROVIDERS=bench_server:providers, so what is measured is the server and the graph machinery. For
1, 2 and 4 workers (together 100 slots), 20 and 100 stateless runs are created at once with langgraph_sdk and
joined. Latency is the run record's created_at to its final updated_at, as a ratio of one run alone on the idle
server; GET /threads/{t}/runs/{r} is timed idle and during the load; worker RSS at peak minus idle, per run in
flight. `--quick`: 1 and 2 workers, 20 runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from simulated_providers import SimulatedModel, simulated_providers  # noqa: E402

SECTIONS = 3
SUBJECTS = ("Movable type foundries", "Paper mills along the Rhine", "Licensing of Venetian printers",
            "Vernacular Bible translations", "Woodcut illustration workshops")
KNOBS = {"max_iterations": 1, "min_sections": SECTIONS, "max_sections": SECTIONS, "use_memory": False,
         "search_results": 3, "retry_wait_seconds": 0}


class SubjectPlanner(SimulatedModel):
    """The simulated planner with titles that name subjects: its "Part 0", "Part 1" are rejected by the plan checks
    (nodes/checks/plan.py: generic, and duplicates of one another), which fails every run after three attempts."""

    def _answer(self, messages) -> str:
        return json.dumps({"title": "Simulated", "paragraphs": [
            {"title": t, "outline": f"About {t.lower()}.", "questions": ["What is it?", "Why does it matter?"]}
            for t in SUBJECTS[: self.sections]]})


def providers():
    """The factory the API and workers call (NEXA_SERVER_PROVIDERS=bench_server:providers)."""
    llm = float(os.environ["BENCH_LLM_LATENCY"])
    chosen = simulated_providers(llm, float(os.environ["BENCH_SEARCH_LATENCY"]), sections=SECTIONS)
    chosen._chat["planner"] = SubjectPlanner(role="planner", latency=llm, sections=SECTIONS)
    return chosen


def theoretical_path(llm: float, search: float) -> float:
    """plan, then per section (in parallel) generate_query, search, synthesize (abstractive: no relevance scorer in
    the simulated providers), then collate; the iteration cap ends the loop after the first search, no reflect."""
    return 4 * llm + search


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def stamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


class Cluster:
    """An embedded Redis Stack, one API process and `workers` worker processes; `stop()` ends all of them."""

    def __init__(self, folder: Path, workers: int, concurrency: int, llm: float, search: float) -> None:
        self.folder, self.workers, self.concurrency = folder, workers, concurrency
        self.llm, self.search = llm, search
        self.procs: list[subprocess.Popen] = []
        self.worker_pids: list[int] = []
        self.redis = None

    def start(self) -> str:
        from nexa_research.providers.services.openssl import find_libssl11
        from nexa_research.providers.services.redis_embedded import EmbeddedRedis
        from nexa_research.providers.settings import ProviderSettings

        import httpx

        self.redis = EmbeddedRedis(self.folder / "redis", lib_dir=find_libssl11(ProviderSettings.load()),
                                   idle_minutes=0)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXA_", "REDIS_", "OPENAI", "EXA_"))}
        env.update({
            "REDIS_URL": self.redis.start(), "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false",
            "NEXA_DATA_DIR": str(self.folder / "data"), "LANGSMITH_TRACING": "false",
            "NEXA_SERVER_PROVIDERS": "bench_server:providers",
            "BENCH_LLM_LATENCY": str(self.llm), "BENCH_SEARCH_LATENCY": str(self.search),
            "PYTHONPATH": os.pathsep.join([str(BENCH), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        })
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._spawn(env, "api", ["-m", "uvicorn", "nexa_research.server.app:app", "--host", "127.0.0.1",
                                 "--port", str(port), "--log-level", "warning"])
        for i in range(self.workers):
            self.worker_pids.append(self._spawn(env, f"worker{i}", ["-m", "nexa_research.cli", "worker",
                                                                    "--concurrency", str(self.concurrency)]).pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a server process exited: see {self.folder}/*.log")
            try:
                if httpx.get(f"{self.url}/info", timeout=2).json()["workers"] >= self.workers:
                    return self.url
            except (httpx.TransportError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the API or its workers did not come up within 120 s: see {self.folder}/*.log")

    def _spawn(self, env: dict[str, str], name: str, args: list[str]) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        self.procs.append(proc)
        return proc

    def workers_rss_kb(self) -> int:
        return sum(rss_kb(pid) for pid in self.worker_pids)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.redis is not None:
            self.redis.stop()


@dataclass
class Batch:
    runs: int
    latencies: list[float]
    span: float
    create_seconds: float
    gets: list[float]
    rss_idle_kb: int
    rss_peak_kb: int
    max_in_flight: int
    failed: int
    load: tuple[float, float] = (0.0, 0.0)
    extra: dict = field(default_factory=dict)


async def time_gets(http, path: str, stop: asyncio.Event | None = None, count: int = 200,
                    pause: float = 0.0) -> list[float]:
    """Sequential GETs of one run: `count` of them, or (under load) until `stop` is set."""
    times: list[float] = []
    while (stop is None and len(times) < count) or (stop is not None and not stop.is_set()):
        started = time.perf_counter()
        response = await http.get(path)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        if pause:
            await asyncio.sleep(pause)
    return times


async def one_run(client, topic: str) -> tuple[dict, float]:
    run = await client.runs.create(None, "nexa_research", input={"topic": topic}, context=KNOBS)
    await client.runs.join(run["thread_id"], run["run_id"])
    final = await client.runs.get(run["thread_id"], run["run_id"])
    return final, stamp(final["updated_at"]) - stamp(final["created_at"])


async def batch(client, http, cluster: Cluster, n: int) -> Batch:
    idle_rss = cluster.workers_rss_kb()
    samples: list[tuple[float, int]] = []
    done = asyncio.Event()

    async def sample_rss() -> None:
        while not done.is_set():
            samples.append((time.time(), cluster.workers_rss_kb()))
            await asyncio.sleep(0.1)

    load_before = os.getloadavg()[0]
    sampler = asyncio.create_task(sample_rss())
    started = time.perf_counter()
    created = await asyncio.gather(*(client.runs.create(
        None, "nexa_research", input={"topic": f"Simulated topic number {i}"}, context=KNOBS) for i in range(n)))
    create_seconds = time.perf_counter() - started
    probe = asyncio.create_task(time_gets(
        http, f"/threads/{created[0]['thread_id']}/runs/{created[0]['run_id']}", stop=done, pause=0.02))
    await asyncio.gather(*(client.runs.join(r["thread_id"], r["run_id"]) for r in created))
    done.set()
    gets = await probe
    await sampler
    finals = await asyncio.gather(*(client.runs.get(r["thread_id"], r["run_id"]) for r in created))
    spans = [(stamp(r["created_at"]), stamp(r["updated_at"])) for r in finals]
    peak_rss = max(rss for _, rss in samples)
    max_in_flight = max(sum(1 for c, f in spans if c <= t < f) for t, _ in samples) if samples else n
    return Batch(
        runs=n, latencies=[f - c for c, f in spans], span=max(f for _, f in spans) - min(c for c, _ in spans),
        create_seconds=create_seconds, gets=gets, rss_idle_kb=idle_rss, rss_peak_kb=peak_rss,
        max_in_flight=max(max_in_flight, 1), failed=sum(1 for r in finals if r["status"] != "success"),
        load=(load_before, os.getloadavg()[0]),
    )


async def measure(cluster: Cluster, sizes: list[int]) -> dict:
    import httpx
    from langgraph_sdk import get_client

    client = get_client(url=cluster.url, api_key=None,
                        timeout=httpx.Timeout(connect=10, read=1800, write=60, pool=None))
    async with httpx.AsyncClient(base_url=cluster.url, timeout=30) as http:
        warm, _ = await one_run(client, "A warm-up topic")  # imports, index creation, first-call caches
        singles = [(await one_run(client, f"A single run {i}"))[1] for i in range(3)]
        idle_gets = await time_gets(http, f"/threads/{warm['thread_id']}/runs/{warm['run_id']}")
        batches = [await batch(client, http, cluster, n) for n in sizes]
    return {"single": statistics.median(singles), "singles": singles, "idle_gets": idle_gets, "batches": batches}


def report(workers: int, concurrency: int, result: dict) -> list[str]:
    ms = lambda s: f"{s * 1000:.1f}"  # noqa: E731
    single = result["single"]
    rows = []
    for b in result["batches"]:
        per_run = (b.rss_peak_kb - b.rss_idle_kb) / b.max_in_flight / 1024
        rows.append(
            f"| {workers} x {concurrency} | {b.runs} | {b.runs / b.span * 60:.0f} | "
            f"{statistics.median(b.latencies) / single:.2f} / {pct(b.latencies, 0.95) / single:.2f} | "
            f"{ms(statistics.median(result['idle_gets']))} / {ms(pct(result['idle_gets'], 0.95))} | "
            f"{ms(statistics.median(b.gets))} / {ms(pct(b.gets, 0.95))} ({len(b.gets)}) | "
            f"{per_run:.2f} ({b.max_in_flight}) | {b.create_seconds:.2f} | {b.load[0]:.1f}-{b.load[1]:.1f} |"
            + (f" {b.failed} failed |" if b.failed else "")
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 2 workers, 20 runs (a smoke check)")
    parser.add_argument("--llm-latency", type=float, default=0.5)
    parser.add_argument("--search-latency", type=float, default=0.2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, Redis AOF)")
    args = parser.parse_args()
    plan = [(1, 20), (2, 20)] if args.quick else [(1, 100), (2, 100), (4, 100)]
    sizes = [20] if args.quick else [20, 100]
    theory = theoretical_path(args.llm_latency, args.search_latency)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"llm {args.llm_latency} s, search {args.search_latency} s, {SECTIONS} sections, 1 round: "
          f"theoretical critical path {theory:.2f} s")
    header = ("| workers x slots | runs | runs/min | latency p50 / p95 (x single run) | GET idle p50 / p95 ms | "
              "GET under load p50 / p95 ms (n) | RSS MB per run in flight (runs) | create all s | load |")
    rows: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="nexa-bench-server-"))
    try:
        for workers, total_slots in plan:
            concurrency = max(1, total_slots // workers)
            folder = root / f"w{workers}"
            folder.mkdir()
            cluster = Cluster(folder, workers, concurrency, args.llm_latency, args.search_latency)
            try:
                cluster.start()
                result = asyncio.run(measure(cluster, sizes))
            finally:
                cluster.stop()
            print(f"{workers} worker(s) x {concurrency}: single run alone "
                  f"{', '.join(f'{s:.2f}' for s in result['singles'])} s (median {result['single']:.2f} s, "
                  f"{result['single'] / theory:.2f}x theoretical)")
            rows += report(workers, concurrency, result)
            print("\n".join([header, "| --- " * 9 + "|", *rows]), flush=True)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
