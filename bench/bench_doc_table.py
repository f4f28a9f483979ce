"""What capping RediSearch's document table costs a knowledge-base search: the same stored knowledge base served by
two Redis Stack servers, one with the module's default MAXDOCTABLESIZE (1,000,000) and one with the embedded
server's cap (providers/services/redis_launch.DOC_TABLE_SLOTS), searched with the same queries.

    .venv/bin/python bench/bench_doc_table.py --redis-dir ~/.local/share/nexa-research/redis [--queries 300] [--k 30]

`--redis-dir` is a data folder's redis/ (its AOF is copied, never touched). Each server replays the copy (which
re-indexes every chunk), then answers `--queries` KNN searches with the vectors of stored chunks picked at random
(the same ones on both), over every knowledge-base index it holds, one at a time; p50 / p95 in ms per index. With
the cap, finding a result's document by id walks a chain of (documents alive / slots) entries.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from nexa_research.providers.services.openssl import find_libssl11
from nexa_research.providers.services.redis_launch import DOC_TABLE_SLOTS, free_port, stack_paths
from nexa_research.providers.settings import ProviderSettings


def start(folder: Path, cap: int | None) -> tuple[subprocess.Popen[bytes], redis.Redis]:
    binary, modules = stack_paths()
    port = free_port()
    args = [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--appendonly", "yes", "--save", "",
            "--dir", str(folder)]  # fmt: skip
    for module in modules:
        args += ["--loadmodule", str(module)]
        if cap and "redisearch" in module.name:
            args += ["MAXDOCTABLESIZE", str(cap)]
    lib = find_libssl11(ProviderSettings())
    env = {"LD_LIBRARY_PATH": str(lib)} if lib else {}
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if client.ping() and all(_indexed(client, i) for i in _indexes(client)):
                return process, client
        except (redis.ConnectionError, redis.BusyLoadingError):
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("Redis Stack did not load the copy within 600 s")


def _indexes(client: redis.Redis) -> list[str]:
    return [i.decode() for i in client.execute_command("FT._LIST") if i.decode().startswith("nexa:kb:")]


def _indexed(client: redis.Redis, index: str) -> bool:
    info = client.ft(index).info()
    return float(info.get("percent_indexed", 1)) >= 1.0 and int(info["num_docs"]) > 0 or int(info["num_docs"]) == 0


def sample_vectors(client: redis.Redis, index: str, count: int, seed: int) -> list[bytes]:
    keys = list(client.scan_iter(match=f"{index}:*", count=5000))  # the store's prefix: providers/kb/redis_store.py
    random.Random(seed).shuffle(keys)
    return [v for v in (client.hget(k, "embedding") for k in keys[:count]) if v]


def latencies(client: redis.Redis, index: str, vectors: list[bytes], k: int) -> list[float]:
    query = f"*=>[KNN {k} @embedding $v AS distance]"
    out = []
    for vector in vectors:
        started = time.perf_counter()
        client.execute_command("FT.SEARCH", index, query, "PARAMS", "2", "v", vector, "SORTBY", "distance",
                               "LIMIT", "0", str(k), "RETURN", "2", "title", "distance", "DIALECT", "2")
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=30)
    args = parser.parse_args()
    print("| MAXDOCTABLESIZE | index | documents | p50 ms | p95 ms |")
    print("| --- | --- | --- | --- | --- |")
    for cap in (None, DOC_TABLE_SLOTS):
        with tempfile.TemporaryDirectory(prefix="nexa-doctable-") as work:
            folder = Path(work)
            shutil.copytree(args.redis_dir / "appendonlydir", folder / "appendonlydir")
            process, client = start(folder, cap)
            try:
                for index in _indexes(client):
                    vectors = sample_vectors(client, index, args.queries, seed=7)
                    if not vectors:
                        continue
                    latencies(client, index, vectors[:10], args.k)  # warm-up
                    times = latencies(client, index, vectors, args.k)
                    p95 = statistics.quantiles(times, n=20)[-1]
                    docs = int(client.ft(index).info()["num_docs"])
                    print(f"| {cap or '1,000,000 (default)'} | {index} | {docs:,} | {statistics.median(times):.2f} | "
                          f"{p95:.2f} |")
            finally:
                client.close()
                process.terminate()
                process.wait(30)


if __name__ == "__main__":
    main()
