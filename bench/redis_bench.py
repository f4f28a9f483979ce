"""Embedded Redis Stack start/lookup/stop time, server memory, and cache hit latency.

Run: .venv/bin/python bench/redis_bench.py   (uses OpenSSL 1.1 from NEXA_DATA_DIR: run `nexa setup` first)
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from nexa_research.providers.redis_cache import RedisCache
from nexa_research.providers.search.protocol import make_source
from nexa_research.providers.services.openssl import find_libssl11
from nexa_research.providers.services.redis_server import EmbeddedRedis
from nexa_research.providers.settings import ProviderSettings


def server_rss_kb(url: str) -> int:
    port = url.rsplit(":", 1)[1].split("/")[0]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ")
            text = status.read_text()
        except OSError:
            continue
        if cmdline.startswith(b"/") and b"redis-server" in cmdline.split(b" ")[0] and f":{port}".encode() in cmdline:
            return int(next(line.split()[1] for line in text.splitlines() if line.startswith("VmRSS")))
    return -1


async def hit_latency(url: str, rounds: int = 200) -> list[float]:
    cache = RedisCache(url)
    sources = [make_source(url=f"https://example.org/{i}", title="t", text="x" * 600) for i in range(10)]
    await cache.put_search("bench", "q", {"k": 10}, sources)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await cache.get_search("bench", "q", {"k": 10})
        times.append(time.perf_counter() - start)
    await cache.aclose()
    return times


def main() -> None:
    lib = find_libssl11(ProviderSettings.load())
    with tempfile.TemporaryDirectory() as tmp:
        starts, lookups, stops = [], [], []
        for _ in range(5):
            server = EmbeddedRedis(Path(tmp), lib_dir=lib)
            t0 = time.perf_counter()
            url = server.start()
            starts.append(time.perf_counter() - t0)
            for _ in range(20):  # what every later run pays to find the running server
                t0 = time.perf_counter()
                EmbeddedRedis(Path(tmp), lib_dir=lib).start()
                lookups.append(time.perf_counter() - t0)
            rss = server_rss_kb(url)
            times = asyncio.run(hit_latency(url))
            t0 = time.perf_counter()
            server.stop()
            stops.append(time.perf_counter() - t0)
    times.sort()
    print(f"start (until PING, idle reaper running) median {statistics.median(starts) * 1000:.0f} ms over {len(starts)}")
    print(f"lookup of the running server median {statistics.median(lookups) * 1000:.1f} ms over {len(lookups)}")
    print(f"stop (SHUTDOWN, AOF fsync, reaper ended) median {statistics.median(stops) * 1000:.0f} ms")
    print(f"server RSS {rss / 1024:.1f} MB")
    print(
        f"cache hit, 10 sources x 600 chars: median {statistics.median(times) * 1000:.2f} ms, "
        f"p95 {times[int(len(times) * 0.95)] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
