"""Several research runs at once on one data folder, on the embedded default: wall time and throughput against one
run alone, and how many llama.cpp servers they ran on.

    .venv/bin/python bench/bench_shared_model.py --data-dir DIR [--batches cli1,cli2,cli4,cli1+worker1,worker2]
        [--topics "A;B;..."] [--cold] [--sections 3] [--iterations 1] [--commit REV] [--quiet-below 0.25] [--json FILE]

A batch starts all its runs at the same moment and ends when the last one does. `cliN` is N `nexa research TOPIC
--sections 3 --iterations 1` processes; `workerN` is N runs on the workers of one `nexa serve --workers 2
--concurrency 1` (one run per worker, auth off) on the same folder, created with langgraph_sdk and joined. DIR must
hold the Wikipedia knowledge base (`NEXA_DATA_DIR=DIR nexa ingest wikipedia`, or a copy of a data folder's redis/).
Report and search caches are off (NEXA_CACHE=false), so every run does all its work. With several `--topics`, run i
of a batch researches the i-th and each one-run batch the next one in turn; a batch is then compared with the
one-run batches of its own topics: `x one alone` is its wall time over their mean, `throughput vs alone` their sum
over its wall time (the same runs one after the other against all at once). `--cold` stops the data folder's model
servers before each batch, so that no batch finds prompts an earlier one left in llama.cpp's prompt cache (runs on
per-process servers never do).

Printed per batch: its wall time, each run's, the ratio to the mean of the one-run-alone batches, throughput
relative to one run alone (N x alone / wall: 1.0 means no gain from running together), the CPU seconds its runs and
services used per run (CLI processes, nexa serve and its workers, model servers, Redis), the llama.cpp servers seen
(processes that loaded xllamacpp), the 1-minute load average when it started, and the share of the two cores other
jobs on the machine used meanwhile (all CPU time minus that of this bench's processes and services).
`--quiet-below 0.25` starts each batch only once the machine was at most 25% busy for 30 s (other jobs share it;
the column of their CPU still says what they took during the batch). `--commit REV` runs the CLI and the server from that commit of this repository instead of the working tree (through
a tree of links as `make lint` builds, first on PYTHONPATH), e.g. 91a005a, the last commit before the shared model
server, to measure the per-process servers it replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Batch:
    name: str
    runs: int
    wall: float = 0.0
    run_walls: list[float] = field(default_factory=list)
    sections_done: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    model_servers: int = 0
    load_at_start: float = 0.0
    others_cpu_share: float = 0.0
    cpu_per_run: float = 0.0
    topics: list[str] = field(default_factory=list)


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def processes_of(data_dir: Path, parents: set[int]) -> set[int]:
    """Processes whose command line names the data folder (its model hosts, Redis and Redis's reaper), and the
    processes in `parents` with their children."""
    found, folder = set(parents), os.fsencode(data_dir)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if folder in cmdline or ppid in parents:
            found.add(int(entry.name))
    return found


def children_of(pid: int) -> set[int]:
    return processes_of(Path("/nonexistent-folder"), {pid}) - {pid}


def model_servers(pids: set[int]) -> set[int]:
    """The processes among `pids` that run a llama.cpp server (they have xllamacpp loaded)."""
    running = set()
    for pid in pids:
        try:
            if b"xllamacpp" in Path(f"/proc/{pid}/maps").read_bytes():
                running.add(pid)
        except OSError:
            continue
    return running


def package_tree(commit: str, work: Path) -> Path:
    """`commit`'s sources as the importable package `nexa_research` (pyproject's package-dir mapping, as links)."""
    repo = Path(__file__).resolve().parent.parent
    source, tree = work / f"src-{commit}", work / f"tree-{commit}"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(repo), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    package = tree / "nexa_research"
    package.mkdir(parents=True)
    for entry in (source / "graph").iterdir():
        (package / entry.name).symlink_to(entry)
    for folder in ("nodes", "prompts", "providers", "server", "evals"):
        (package / folder).symlink_to(source / folder)
    return tree


def wait_for_quiet(share: float, patience: float) -> float:
    """Wait until the machine was at most `share` busy over 30 s (other jobs share it); the share last seen."""
    deadline = time.monotonic() + patience
    while True:
        busy = machine_busy()
        time.sleep(30)
        seen = (machine_busy() - busy) / (os.cpu_count() or 1) / 30
        if seen <= share or time.monotonic() > deadline:
            return seen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="nexa-bench-shared-"))
        self.env = {**os.environ, "NEXA_DATA_DIR": str(args.data_dir), "NEXA_CACHE": "false", "COLUMNS": "200",
                    "NEXA_SERVER_AUTH": "off", "NEXA_SERVER_WORKER_CONCURRENCY": "1"}  # fmt: skip
        if args.commit:
            tree = package_tree(args.commit, self.work)
            self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))
        for unset in ("REDIS_URL", "NEXA_LLM_BASE_URL", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "EXA_API_KEY"):
            self.env.pop(unset, None)
        self.server: subprocess.Popen | None = None
        self.url = ""
        self.alone_batches = 0

    def start_server(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = (self.work / "serve.log").open("w")
        self.server = subprocess.Popen([sys.executable, "-m", "nexa_research.cli", "serve", "--port", str(port),
                                        "--workers", "2", "--concurrency", "1"],
                                       env=self.env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    time.sleep(30)  # its workers load the relevance scorer (torch) before they take runs
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"nexa serve did not listen on {port}; see {self.work / 'serve.log'}")

    def topic(self, i: int) -> str:
        return self.args.topics[i % len(self.args.topics)]

    def cli_run(self, i: int, batch: Batch) -> None:
        out = self.work / f"{batch.name}-{i}-{time.time_ns()}.md"
        started = time.monotonic()
        with (self.work / f"{out.stem}.log").open("w") as log:
            done = subprocess.run([sys.executable, "-m", "nexa_research.cli", "research", self.topic(i),
                                   "--sections", str(self.args.sections), "--iterations", str(self.args.iterations),
                                   "--quiet", "--out", str(out)], env=self.env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        batch.run_walls.append(time.monotonic() - started)
        if done.returncode != 0:
            batch.failures.append(f"cli exit {done.returncode}: {log.name}")
            return
        report = json.loads(out.with_suffix(".json").read_text())
        batch.sections_done.append(sum(s["status"] == "done" for s in report["sections"]))

    def worker_run(self, i: int, batch: Batch) -> None:
        import httpx
        from langgraph_sdk import get_client

        async def run() -> dict:
            client = get_client(url=self.url, timeout=httpx.Timeout(3600, connect=10))  # runs take minutes here
            knobs = {"min_sections": self.args.sections, "max_sections": self.args.sections,
                     "max_iterations": self.args.iterations}  # fmt: skip
            return await client.runs.wait(None, "nexa_research", input={"topic": self.topic(i)}, context=knobs)

        started = time.monotonic()
        try:
            values = asyncio.run(run())
        except (httpx.HTTPError, OSError) as exc:
            batch.failures.append(f"worker run: {type(exc).__name__}: {exc}")
            return
        batch.run_walls.append(time.monotonic() - started)
        report = values.get("report") if isinstance(values, dict) else None
        if not report:
            batch.failures.append(f"worker run: {str(values)[:300]}")
            return
        batch.sections_done.append(sum(s["status"] == "done" for s in report["sections"]))

    def batch(self, name: str) -> Batch:
        counts = {kind: int(n) for kind, n in re.findall(r"(cli|worker)(\d+)", name)}
        batch = Batch(name, sum(counts.values()), load_at_start=os.getloadavg()[0])
        first = self.alone_batches if batch.runs == 1 else 0
        self.alone_batches += batch.runs == 1
        clis = counts.get("cli", 0)
        batch.topics = [self.topic(first + i) for i in range(batch.runs)]
        jobs = [threading.Thread(target=self.cli_run, args=(first + i, batch)) for i in range(clis)]
        jobs += [threading.Thread(target=self.worker_run, args=(first + clis + i, batch))
                 for i in range(counts.get("worker", 0))]  # fmt: skip
        server = {self.server.pid} if self.server else set()
        # CPU of the CLI runs comes from os.times() once they are waited for; the rest is read from /proc.
        tracked = processes_of(self.args.data_dir, server)
        cpu_before = {pid: proc_cpu(pid) for pid in tracked}
        cpu_after = dict(cpu_before)
        busy_before, times_before = machine_busy(), os.times()
        started = time.monotonic()
        for job in jobs:
            job.start()
        seen: set[int] = set()
        while any(job.is_alive() for job in jobs):
            tracked |= processes_of(self.args.data_dir, server)
            seen |= model_servers(tracked | children_of(os.getpid()))
            for pid in tracked:
                cpu_before.setdefault(pid, 0.0)  # started during the batch
                cpu_after[pid] = max(cpu_after.get(pid, 0.0), proc_cpu(pid))
            time.sleep(2)
        batch.wall = time.monotonic() - started
        for pid in tracked:
            cpu_after[pid] = max(cpu_after.get(pid, 0.0), proc_cpu(pid))
        times = os.times()
        ours_cpu = sum(cpu_after[pid] - cpu_before[pid] for pid in tracked)
        ours_cpu += sum(getattr(times, f) - getattr(times_before, f)
                        for f in ("user", "system", "children_user", "children_system"))  # fmt: skip
        others = max(0.0, machine_busy() - busy_before - ours_cpu)
        batch.cpu_per_run = ours_cpu / batch.runs
        batch.others_cpu_share = others / (os.cpu_count() or 1) / batch.wall
        batch.model_servers = len(seen)
        return batch

    def close(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=60)


def stop_model_servers(data_dir: Path) -> None:
    """End the data folder's shared model servers (this bench's own processes), emptying their prompt caches."""
    for pid in processes_of(data_dir, set()):
        try:
            if b"model_host.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGTERM)
        except (OSError, ProcessLookupError):
            continue
    time.sleep(2)


def print_row(batch: Batch, alone_walls: list[float]) -> None:
    """`alone_walls`: the one-run times of this batch's topics (empty when not measured yet)."""
    ratio = f"{batch.wall / statistics.mean(alone_walls):.2f}x" if alone_walls else "-"
    gain = f"{sum(alone_walls) / batch.wall:.2f}" if alone_walls else "-"
    walls = ", ".join(f"{w:.0f}" for w in sorted(batch.run_walls))
    print(f"| {batch.name} | {batch.wall:.0f} s | {walls} | {ratio} | {gain} | {batch.cpu_per_run:.0f} s | "
          f"{batch.model_servers} | {batch.load_at_start:.1f} | {batch.others_cpu_share:.0%} | {batch.sections_done} "
          f"{'FAILED: ' + '; '.join(batch.failures) if batch.failures else ''}|", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--batches", default="cli1,cli2,cli1,cli4,cli1+worker1,worker2")
    parser.add_argument("--topics", default="The history of the printing press", type=lambda text: text.split(";"))
    parser.add_argument("--cold", action="store_true", help="stop the model servers before each batch")
    parser.add_argument("--sections", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--commit", default="", help="run this commit's code (default: the working tree)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quiet-below", type=float, default=1.0,
                        help="start a batch only once the machine was at most this busy (0-1) for 30 s")
    parser.add_argument("--patience", type=float, default=1800, help="seconds to wait for that at most")
    args = parser.parse_args()
    args.data_dir = args.data_dir.resolve()
    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))  # so that `finally` stops nexa serve
    print(f"logs and reports in {bench.work}; data {args.data_dir}; code {args.commit or 'working tree'}; "
          f"{os.cpu_count()} cores", flush=True)
    print("| batch | wall | each run (s) | x one alone | throughput vs alone | CPU per run | llama.cpp servers | "
          "load at start | others' CPU | sections done |\n|---|---|---|---|---|---|---|---|---|---|", flush=True)  # fmt: skip
    results: list[Batch] = []
    alone: dict[str, list[float]] = {}
    try:
        for name in args.batches.split(","):
            if "worker" in name and bench.server is None:
                bench.start_server()
            if args.quiet_below < 1:
                seen = wait_for_quiet(args.quiet_below, args.patience)
                if seen > args.quiet_below:
                    print(f"(the machine was {seen:.0%} busy after {args.patience:.0f} s of waiting: ran anyway)")
            if args.cold:
                stop_model_servers(args.data_dir)
            batch = bench.batch(name)
            results.append(batch)
            if batch.runs == 1 and not batch.failures:
                alone.setdefault(batch.topics[0], []).append(batch.wall)
            known = [statistics.mean(alone[t]) for t in batch.topics if t in alone]
            print_row(batch, known if len(known) == len(batch.topics) else [])
    finally:
        bench.close()
    if args.json:
        args.json.write_text(json.dumps([asdict(b) for b in results], indent=1))


if __name__ == "__main__":
    main()
