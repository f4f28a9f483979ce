"""Redis memory per finished run, its trend over a batch, and what retention gives back (library runs).

    .venv/bin/python bench/bench_retention.py [--batches 5] [--runs 20] [--retention 5] [--docs 32000]

An embedded Redis Stack of its own. Part 1: `--batches` batches of `--runs` library runs each (simulated providers
with 10 ms latency, 3 sections, 1 round, Redis checkpointer, no cache), NEXA_RETENTION_DAYS = `--retention`
seconds; after each batch, used_memory at once (the batch's threads still there) and once every key expired and
RediSearch's garbage collector ran. The baseline is the idle server after one run that expired: the first run on a
fresh Redis allocates about 0.5 MB inside Redis and its modules, once.

Part 2: what RediSearch keeps of a deleted document. `--docs` JSON documents indexed and deleted, 1,000 at a time,
each with a tag value of its own, on a server with the default MAXDOCTABLESIZE (1,000,000) and on one started with
MAXDOCTABLESIZE 2000: used_memory above the empty index after 1,000, 2,000, 4,000, ... documents.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


def settled(client) -> int:
    for index in client.execute_command("FT._LIST"):
        client.execute_command("FT.DEBUG", "GC_FORCEINVOKE", index)
    return int(client.info("memory")["used_memory"])


def wait_empty(client, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while client.dbsize() and time.monotonic() < deadline:
        time.sleep(0.5)


async def library_batches(batches: int, runs: int, retention: float, lib_dir: Path) -> None:
    import redis
    from bench_server import KNOBS, providers

    from nexa_research.api import aresearch
    from nexa_research.providers.services.redis_embedded import EmbeddedRedis

    folder = Path(tempfile.mkdtemp(prefix="nexa-retention-"))
    server = EmbeddedRedis(folder / "redis", lib_dir=lib_dir, idle_minutes=0)
    url = server.start()
    os.environ.update(REDIS_URL=url, NEXA_CHECKPOINTER="redis", NEXA_CACHE="false", NEXA_DATA_DIR=str(folder / "data"),
                      LANGSMITH_TRACING="false", BENCH_LLM_LATENCY="0.01", BENCH_SEARCH_LATENCY="0.01",
                      NEXA_RETENTION_DAYS=repr(retention / 86_400))
    client = redis.Redis.from_url(url)
    try:
        await aresearch("A warm-up topic", providers=providers(), **KNOBS)
        wait_empty(client)
        baseline = settled(client)
        print(f"baseline (idle, after one run expired): {baseline / 1024:,.0f} KiB")
        print("| runs so far | used_memory with the batch's threads | per run | after retention | vs baseline |")
        print("| --- | --- | --- | --- | --- |")
        for batch in range(1, batches + 1):
            for i in range(runs):
                await aresearch(f"Topic {batch}-{i}", providers=providers(), **KNOBS)
            held = int(client.info("memory")["used_memory"])
            wait_empty(client)
            after = settled(client)
            print(f"| {batch * runs} | {held / 1024:,.0f} KiB | {(held - baseline) / runs / 1024:,.0f} KiB | "
                  f"{after / 1024:,.0f} KiB | {(after / baseline - 1) * 100:+.1f} % |", flush=True)
    finally:
        client.close()
        server.stop()


def doc_table(docs: int, cap: int | None, lib_dir: Path) -> None:
    """Index and delete `docs` documents in growing batches; print the memory left above the empty index."""
    import redis

    from nexa_research.providers.services.redis_launch import stack_paths

    binary, modules = stack_paths()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
            "--dir", tempfile.mkdtemp(prefix="nexa-doctable-")]
    for module in modules:
        args += ["--loadmodule", str(module), *(["MAXDOCTABLESIZE", str(cap)] if cap and "redisearch" in module.name else [])]
    env = {**os.environ, "LD_LIBRARY_PATH": str(lib_dir)}
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.execute_command("FT.CREATE", "x", "ON", "JSON", "PREFIX", "1", "x:", "SCHEMA", "$.t", "AS", "t", "TAG",
                               "$.n", "AS", "n", "NUMERIC")
        base, done, row = settled(client), 0, []
        while done < docs:  # 1,000 documents live at a time, each with a tag value of its own (as a thread id is)
            with client.pipeline(transaction=False) as pipe:
                for i in range(done, done + 1000):
                    pipe.json().set(f"x:{i}", "$", {"t": f"thread-{i}", "n": i})
                pipe.execute()
            with client.pipeline(transaction=False) as pipe:
                for i in range(done, done + 1000):
                    pipe.delete(f"x:{i}")
                pipe.execute()
            done += 1000
            if (done // 1000) & (done // 1000 - 1) == 0 or done == docs:  # 1k, 2k, 4k, 8k, ...
                row.append(f"{done:,}: +{(settled(client) - base) / 1024:,.0f} KiB")
        print(f"MAXDOCTABLESIZE {cap or '1,000,000 (default)'}: documents indexed and deleted so far -> memory left: "
              + ", ".join(row))
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--retention", type=float, default=5.0, help="seconds")
    parser.add_argument("--docs", type=int, default=32_000)
    args = parser.parse_args()
    from nexa_research.providers.services.openssl import find_libssl11
    from nexa_research.providers.settings import ProviderSettings

    lib_dir = find_libssl11(ProviderSettings.load())  # before the library part points NEXA_DATA_DIR elsewhere
    print(f"start: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    asyncio.run(library_batches(args.batches, args.runs, args.retention, lib_dir))
    doc_table(args.docs, None, lib_dir)
    doc_table(args.docs, 2000, lib_dir)


if __name__ == "__main__":
    main()
