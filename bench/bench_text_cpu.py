"""CPU a research run spends on its text rules: everything but its model and search calls.

    .venv/bin/python bench/bench_text_cpu.py [--sections 5] [--rounds 3] [--llm-latency 1.0] [--search-latency 0.2]
                                             [--search text|kb] [--embed-hits]

One fresh process, simulated models (bench/simulated_providers.py: each call sleeps `--llm-latency` seconds and
costs no CPU) and a search over real text: the offline Wikipedia corpus's articles, ranked by term overlap in a
pool prepared before the clock starts, each call sleeping `--search-latency`. What is measured with
`time.process_time()` is the rest: the relevance scorer (all-MiniLM-L6-v2) embedding topics, passages and
sentences, the plan checks, the gate, coverage, passage selection, the collator's rules, and the graph itself.

`--search kb` searches the same articles through the real knowledge-base backend instead (embedded Qdrant in a
temporary folder, filled before the clock starts), the embedded default's path: its hits carry their stored
vectors, so the gate need not embed them again. The search call's own CPU (embedding the query, the store's
lookup) is measured on its thread and left out, as a search call's time is. `--embed-hits` makes the backend keep
its stored vectors to itself, so the run embeds every hit again (the same workload, without the reuse).

Printed: the scorer's load (import and model), the first run on a new topic (what every CLI run and every new
topic pays) and a second run of the same topic in the same process (vectors cached).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TOPIC = "The history of the printing press"


class KnowledgeBaseCorpusSearch:
    """The knowledge-base backend over the same pool, with a fixed latency; its own CPU is counted apart."""

    name = "kb"

    def __init__(self, articles: list[dict], latency: float, folder: str) -> None:
        from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase
        from nexa_research.providers.search.knowledge_base import KnowledgeBaseSearch

        kb = QdrantKnowledgeBase(path=folder, collection="bench")
        kb.add_documents(articles, source="wikipedia")
        self._search = KnowledgeBaseSearch(kb)
        self.latency = latency
        self.cpu = 0.0

    def _timed(self, query: str, k: int, filters: dict | None) -> list:
        before = time.thread_time()
        try:
            return self._search.search_sync(query, k, filters)
        finally:
            self.cpu += time.thread_time() - before

    async def search(self, query: str, k: int, filters: dict | None = None) -> list:
        await asyncio.sleep(self.latency)
        return await asyncio.to_thread(self._timed, query, k, filters)


class CorpusSearch:
    """Term-overlap search over a fixed pool of corpus articles, with a fixed latency (no CPU of note)."""

    name = "corpus"

    def __init__(self, articles: list[dict], latency: float) -> None:
        from nexa_research.providers.search.in_memory import InMemorySearch

        self._search = InMemorySearch(articles)
        self.latency = latency

    async def search(self, query: str, k: int, filters: dict | None = None) -> list:
        await asyncio.sleep(self.latency)
        return await self._search.search(query, k, filters)


def corpus_pool(words: set[str], size: int = 400) -> list[dict]:
    """The corpus articles sharing most words with the bench's subjects: a small pool, so search costs little."""
    from nexa_research.providers.kb.ingest import wikipedia_documents

    scored = []
    for doc in wikipedia_documents():
        shared = len(words & set(f"{doc['title']} {doc['text']}".lower().split()))
        if shared:
            scored.append((shared, doc))
    scored.sort(key=lambda pair: -pair[0])
    return [doc for _, doc in scored[:size]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--llm-latency", type=float, default=1.0)
    parser.add_argument("--search-latency", type=float, default=0.2)
    parser.add_argument("--search", choices=("text", "kb"), default="text")
    parser.add_argument("--embed-hits", action="store_true", help="kb: do not hand stored vectors to the scorer")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    from langgraph.checkpoint.memory import InMemorySaver
    from simulated_providers import SUBJECTS, SimulatedModel

    from nexa_research.api import aresearch
    from nexa_research.providers import StaticProviders

    words = {w.lower() for s in [TOPIC, *SUBJECTS] for w in s.split() if len(w) > 3}
    start = time.process_time()
    from nexa_research.providers.relevance import default_relevance

    relevance = default_relevance()
    relevance.similarity(["warm up"], ["the scorer's model"])
    load = time.process_time() - start
    if args.embed_hits:
        import nexa_research.providers.search.knowledge_base as kb_search

        kb_search.share_vectors = lambda *_: None  # type: ignore[assignment]
    folder = tempfile.TemporaryDirectory(prefix="bench-kb-")
    search: CorpusSearch | KnowledgeBaseCorpusSearch = (
        KnowledgeBaseCorpusSearch(corpus_pool(words), args.search_latency, folder.name)
        if args.search == "kb" else CorpusSearch(corpus_pool(words), args.search_latency)
    )
    roles = ("planner", "query_writer", "reflection", "synthesizer", "collator")
    providers = StaticProviders(
        chat={r: SimulatedModel(role=r, latency=args.llm_latency, sections=args.sections) for r in roles},
        search=search, relevance=relevance,
    )
    knobs = {"min_sections": args.sections, "max_sections": args.sections, "max_iterations": args.rounds,
             "use_memory": False, "use_cache": False}
    times = []

    async def runs() -> None:
        for _ in range(2):
            searching = getattr(search, "cpu", 0.0)
            before, wall = time.process_time(), time.perf_counter()
            report = await aresearch(TOPIC, providers=providers, checkpointer=InMemorySaver(), **knobs)
            spent = time.process_time() - before - (getattr(search, "cpu", 0.0) - searching)
            times.append((spent, time.perf_counter() - wall, report))

    asyncio.run(runs())
    folder.cleanup()
    print(f"search: {args.search}{' (hits embedded again)' if args.embed_hits else ''}")
    print(f"scorer load (import + model): {load:.2f} s CPU")
    for label, (cpu, wall, report) in zip(("first run, new topic", "second run, same topic"), times, strict=True):
        rounds = sum(s.iterations for s in report.sections)
        print(f"{label}: {cpu:.2f} s CPU, {wall:.1f} s wall, {len(report.sections)} sections, {rounds} rounds, "
              f"{len(report.bibliography)} sources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
