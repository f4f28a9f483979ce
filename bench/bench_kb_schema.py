"""Redis knowledge-base index variants: what full-text fields and HNSW would cost, measured on the real corpus.

    .venv/bin/python bench/bench_kb_schema.py --source DIR     # DIR/qdrant: an embedded Qdrant store of the corpus

Each variant gets a fresh embedded Redis Stack, the corpus copied in from the Qdrant store (no embedding), 50
ranking queries (15 candidates with vectors, as search runs them), then a server restart timed until the index
is whole again (loading the AOF re-indexes every chunk). Prints a Markdown table; bench/kb.md has the results and the choice.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import redis
from redisvl.schema import IndexSchema

import nexa_research.providers.kb.redis_store as redis_kb
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.kb.migration import copy_knowledge_base
from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase
from nexa_research.providers.services.openssl import ensure_libssl11
from nexa_research.providers.services.redis_server import EmbeddedRedis
from nexa_research.providers.settings import ProviderSettings

CHOSEN = redis_kb.index_schema


def variant_schema(name: str):
    def schema(collection: str, dim: int) -> IndexSchema:
        spec = CHOSEN(collection, dim).to_dict()
        if name == "full-text":
            spec["fields"] += [{"name": "title", "type": "text"}, {"name": "text", "type": "text"}]
        if name == "hnsw":
            for field in spec["fields"]:
                if field["type"] == "vector":
                    field["attrs"]["algorithm"] = "hnsw"
        return IndexSchema.from_dict(spec)

    return schema


def measure(name: str, source: Path, folder: Path, lib_dir: Path | None) -> str:
    redis_kb.index_schema = variant_schema(name)
    server = EmbeddedRedis(folder / name, lib_dir=lib_dir)
    url = server.start()
    with QdrantKnowledgeBase(path=source / "qdrant", collection="nexa_kb") as corpus, \
         redis_kb.RedisKnowledgeBase(url, collection="nexa_kb") as kb:  # fmt: skip
        t0 = time.perf_counter()
        copy_knowledge_base(corpus, kb, progress=False)
        copy_s = time.perf_counter() - t0
        ranks = []
        for i in range(50):
            vector = default_embedder().embed([f"query {i} on the history of science"])[0]
            t0 = time.perf_counter()
            kb._nearest(vector, 15, None, 0.25, True)
            ranks.append((time.perf_counter() - t0) * 1000)
    client = redis.Redis.from_url(url)
    memory = client.info("memory")["used_memory_human"]
    client.close()
    server.stop()
    aof_mb = sum(p.stat().st_size for p in (folder / name).rglob("*.aof")) / 1e6
    t0 = time.perf_counter()
    client = redis.Redis.from_url(server.start())
    while float(client.ft("nexa:kb:nexa_kb").info().get("percent_indexed", 1)) < 1:
        time.sleep(0.01)
    start_ms = (time.perf_counter() - t0) * 1000
    client.close()
    server.stop()
    ranks.sort()
    return f"| {name} | {copy_s:.1f} s | {ranks[25]:.1f} / {ranks[47]:.1f} ms | {memory} | {start_ms:,.0f} ms (AOF {aof_mb:.0f} MB) |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="a data folder whose qdrant/ holds nexa_kb")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="nexa-kb-schema-"))
    lib_dir = ensure_libssl11(ProviderSettings.load())
    print("| index | copy | ranking p50 / p95 | Redis memory | server start |")
    print("| --- | --- | --- | --- | --- |")
    try:
        for name in ("chosen", "full-text", "hnsw"):
            print(measure(name, args.source, folder, lib_dir), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
