"""Knowledge-base benchmark, per store: ingest rate on the offline Wikipedia corpus, time to open, search latency.

    .venv/bin/python bench/bench_kb.py --store redis                 # full corpus (10,033 articles), 200 queries
    .venv/bin/python bench/bench_kb.py --store qdrant
    .venv/bin/python bench/bench_kb.py --store redis --copy-from DIR  # copy the embedded Qdrant store under DIR
    .venv/bin/python bench/bench_kb.py --limit 500                   # quick run

Redis is a fresh embedded Redis Stack in `--dir`/redis (AOF on, as the library runs it); Qdrant is embedded
Qdrant in `--dir`/qdrant. Queries are built from articles' short descriptions plus topic ("1968 film by Stanley
Kubrick (Arts)"), so each has a known right answer: "hit@5" is the share of queries whose article is among the 5
results. Latency is the whole backend path (embed the query, rank, de-duplicate), one query at a time in this
process after one warm-up query. The ingest line splits its time into embedding and the rest (chunking,
comparing with the store, writes). "open" is closing the knowledge base and opening it again: embedded Qdrant
loads the collection into the process, Redis answers FT.INFO. For Redis, "server restart" is stopping the
server and starting it again until the index is whole (AOF replay re-indexes every chunk). Prints Markdown.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import redis

from nexa_research.providers.kb.embeddings import Embedder, default_embedder
from nexa_research.providers.kb.ingest import WIKI_SOURCE, wikipedia_documents
from nexa_research.providers.kb.migration import copy_knowledge_base
from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase
from nexa_research.providers.kb.redis_store import RedisKnowledgeBase
from nexa_research.providers.kb.store import KnowledgeBase
from nexa_research.providers.search.knowledge_base import KnowledgeBaseSearch
from nexa_research.providers.services.openssl import ensure_libssl11
from nexa_research.providers.services.redis_server import EmbeddedRedis
from nexa_research.providers.settings import ProviderSettings

COLLECTION = "bench"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class TimedEmbedder:
    """The real embedder, with the seconds spent in it added up."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.dim, self.seconds = inner, inner.dim, 0.0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        t0 = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t0


def timed(call: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = call()
    return time.perf_counter() - t0, result


def redis_restart(server: EmbeddedRedis) -> tuple[float, float, str]:
    """(s until PING, s until the index is whole, memory used) for a stop and start of the server."""
    server.stop()
    t0 = time.perf_counter()
    url = server.start()
    ping_s = time.perf_counter() - t0
    client = redis.Redis.from_url(url)
    while float(client.ft(f"nexa:kb:{COLLECTION}").info().get("percent_indexed", 1)) < 1:
        time.sleep(0.01)
    indexed_s = time.perf_counter() - t0
    memory = client.info("memory")["used_memory_human"]
    client.close()
    return ping_s, indexed_s, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["redis", "qdrant"], default="redis")
    parser.add_argument("--limit", type=int, default=None, help="first N articles only (default: all)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="store here instead of a temporary folder")
    parser.add_argument("--skip-ingest", action="store_true", help="search an already filled --dir store only")
    parser.add_argument("--copy-from", type=Path, default=None, help="fill by copying embedded Qdrant under this dir")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    docs = wikipedia_documents(args.limit)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="nexa-kb-bench-"))
    load_s, _ = timed(lambda: default_embedder().embed(["warm up"]))
    embedder = TimedEmbedder(default_embedder())
    rows: list[tuple[str, str]] = [("model load", f"{load_s:.1f} s")]
    server = None
    if args.store == "redis":
        server = EmbeddedRedis(folder / "redis", lib_dir=ensure_libssl11(ProviderSettings.load()))
        start_s, url = timed(server.start)
        rows.append(("server start (loads the AOF, indexes what it holds)", f"{start_s * 1000:.0f} ms"))
        opener: Callable[[], KnowledgeBase] = lambda: RedisKnowledgeBase(url, collection=COLLECTION, embedder=embedder)  # noqa: E731
    else:
        opener = lambda: QdrantKnowledgeBase(path=folder / "qdrant", collection=COLLECTION, embedder=embedder)  # noqa: E731
    first_open_s, kb = timed(opener)
    rows.append(("first open in this process", f"{first_open_s * 1000:.0f} ms"))
    if args.copy_from is not None:
        with QdrantKnowledgeBase(path=args.copy_from / "qdrant", collection="nexa_kb", embedder=embedder) as source:
            copy_s, chunks = timed(lambda: copy_knowledge_base(source, kb, progress=False))
        rows.append(("copy from embedded Qdrant (no embedding)", f"{copy_s:.1f} s = {chunks / copy_s:,.0f} chunks/s"))
    elif args.skip_ingest:
        chunks = kb.count()
    else:
        ingest_s, chunks = timed(lambda: kb.add_documents(docs, source=WIKI_SOURCE))
        embed_s = embedder.seconds
        reingest_s, _ = timed(lambda: kb.add_documents(docs, source=WIKI_SOURCE))
        rows.append(("ingest", f"{ingest_s:.1f} s = {chunks / ingest_s:.1f} chunks/s "  # type: ignore[operator]
                               f"(embedding {embed_s:.1f} s, the rest {ingest_s - embed_s:.1f} s)"))
        rows.append(("re-ingest (unchanged, no re-embedding)", f"{reingest_s:.1f} s"))
    kb.close()
    open_s, kb = timed(opener)
    count_s, _ = timed(kb.count)  # type: ignore[attr-defined]
    rows.append(("open (close, then open again) / first count", f"{open_s * 1000:.0f} ms / {count_s * 1000:.1f} ms"))

    rng = random.Random(args.seed)
    sample = rng.sample([d for d in docs if d.get("description")], min(args.queries, len(docs)))
    search = KnowledgeBaseSearch(kb)  # type: ignore[arg-type]
    search.search_sync("warm up", 5)
    timings: dict[str, list[float]] = {"search": [], "search+filter": [], "embed": [], "rank": []}
    hits = 0
    for doc in sample:
        query = f"{doc['description']} ({doc['topic']})"
        t0 = time.perf_counter()
        results = search.search_sync(query, 5)
        timings["search"].append((time.perf_counter() - t0) * 1000)
        hits += any(r["url"] == doc["url"] for r in results)
        t0 = time.perf_counter()
        search.search_sync(query, 5, {"source": WIKI_SOURCE, "published_before": "2030-01-01"})
        timings["search+filter"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        vector = search.kb.embedder.embed([query])[0]
        timings["embed"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        search.kb._nearest(vector, 15, None, search.score_threshold, True)  # the ranking step alone, as search runs it
        timings["rank"].append((time.perf_counter() - t0) * 1000)
    search.close()
    if server is not None:
        ping_s, indexed_s, memory = redis_restart(server)
        rows.append(("server restart: until PING / until indexed", f"{ping_s * 1000:.0f} ms / {indexed_s * 1000:.0f} ms"))
        rows.append(("Redis memory used", memory))
        server.stop()

    print(f"| {args.store}: {len(docs)} articles -> {chunks} chunks | store: {folder} |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for name, values in timings.items():
        print(f"| {name} latency p50 / p95 ({len(values)} queries) | "
              f"{percentile(values, 0.5):.1f} ms / {percentile(values, 0.95):.1f} ms |")
    print(f"| hit@5 (article of the description in top 5) | {hits}/{len(sample)} = {hits / len(sample):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
