"""Knowledge-base benchmark: ingest rate on the offline Wikipedia corpus, then search latency and hit rate.

    .venv/bin/python bench/bench_kb.py                 # full corpus (10,033 articles), 200 queries
    .venv/bin/python bench/bench_kb.py --limit 500     # quick run

Queries are built from articles' short descriptions plus topic ("1968 film by Stanley Kubrick (Arts)"), so
each has a known right answer: "hit@5" is the share of queries whose article is among the 5 results.
Latency is the whole backend path (embed the query, Qdrant query, de-duplication), measured one query at a
time in this process after one warm-up query. The ingest line splits its time into embedding and the rest
(chunking, comparing with the store, Qdrant writes). Results print as a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from nexa_research.providers.embeddings import Embedder, default_embedder
from nexa_research.providers.ingest import WIKI_SOURCE, wikipedia_documents
from nexa_research.providers.knowledge_base import KnowledgeBase
from nexa_research.providers.qdrant_search import QdrantSearch


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N articles only (default: all)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="store here instead of a temporary folder")
    parser.add_argument("--skip-ingest", action="store_true", help="search an already filled --dir store only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    docs = wikipedia_documents(args.limit)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="nexa-kb-bench-"))
    t0 = time.perf_counter()
    default_embedder().embed(["warm up"])
    load_s = time.perf_counter() - t0

    timed = TimedEmbedder(default_embedder())
    kb = KnowledgeBase(path=folder / "qdrant", collection="bench", embedder=timed)
    ingest_s = reingest_s = None
    embed_s = 0.0
    if args.skip_ingest:
        chunks = kb.count()
    else:
        t0 = time.perf_counter()
        chunks = kb.add_documents(docs, source=WIKI_SOURCE)
        ingest_s = time.perf_counter() - t0
        embed_s = timed.seconds
        t0 = time.perf_counter()
        kb.add_documents(docs, source=WIKI_SOURCE)
        reingest_s = time.perf_counter() - t0

    rng = random.Random(args.seed)
    sample = rng.sample([d for d in docs if d.get("description")], min(args.queries, len(docs)))
    search = QdrantSearch(kb)
    search.search_sync("warm up", 5)
    timings = {"search": [], "search+filter": [], "embed": [], "qdrant": []}
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
        vector = kb.embedder.embed([query])[0]
        timings["embed"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        kb._query(vector, 15, None, search.score_threshold, True)  # the ranking step alone, as search runs it
        timings["qdrant"].append((time.perf_counter() - t0) * 1000)
    kb.close()

    print(f"| corpus | {len(docs)} articles -> {chunks} chunks (store: {folder}) |")
    print("| --- | --- |")
    print(f"| model load | {load_s:.1f} s |")
    if ingest_s is not None and reingest_s is not None:
        print(f"| ingest | {ingest_s:.1f} s = {chunks / ingest_s:.1f} chunks/s "
              f"(embedding {embed_s:.1f} s, the rest {ingest_s - embed_s:.1f} s) |")
        print(f"| re-ingest (unchanged, no re-embedding) | {reingest_s:.1f} s |")
    for name, values in timings.items():
        print(f"| {name} latency p50 / p95 ({len(values)} queries) | "
              f"{percentile(values, 0.5):.1f} ms / {percentile(values, 0.95):.1f} ms |")
    print(f"| hit@5 (article of the description in top 5) | {hits}/{len(sample)} = {hits / len(sample):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
