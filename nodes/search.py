"""search: run the round's queries against the run's search backend, with retries, and gate the results.

The first round also searches with the plan's own words (section title and topic), because a small model's
query can miss, and every round adds the documents that name the subject (on the knowledge base: see
`naming_candidates`) and, in a folder of the user's documents, the pages its sources link to
(`linked_candidates`). Results pass the relevance gate (nodes/checks/relevance.py) before they count: only on-topic,
non-duplicate passages are appended to the paragraph's research. No new on-topic passage ends the loop. A
backend that keeps failing ends the loop too, and with no sources at all the section is missing. An optional
feature that failed on the way (research memory, the search cache) costs nothing found: its warning is kept on
the paragraph (`warnings`) and listed in the report's metadata.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.nodes.accounting.metering import StepMeter
from nexa_research.nodes.checks.coverage import mentioned_names
from nexa_research.nodes.checks.relevance import GateResult, gate_sources, section_query
from nexa_research.nodes.checks.subject import TopicSubject
from nexa_research.nodes.progress import section_progress
from nexa_research.nodes.text.excerpts import naming_excerpt
from nexa_research.providers.llm.chat_models import PROVIDER_FAILURES
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.retry_policy import RetryPolicy
from nexa_research.providers.search.links import linked_backend
from nexa_research.providers.search.naming import naming_backend
from nexa_research.providers.search.outcome import SearchOutcome, search_outcome
from nexa_research.providers.search.protocol import SearchBackend
from nexa_research.state import BranchState, Source, stop_research
from nexa_research.urls import normalize_url

# Documents naming the subject handed to each round's gate, those naming it most often first: the gate keeps at
# most `search_results` of everything a round found, best first, so more would only cost scoring.
NAMING_DOCUMENTS = 30
# Pages the section's sources (held and just found) link to, handed to each round's gate (a manual's chapter
# page lists its pages; see providers/search/links.py): as many as a chapter of a large manual has.
LINKED_DOCUMENTS = 30
# How far past the passages a section holds a query reaches, as a multiple of `search_results`. A knowledge base
# ranks the same few core articles of a topic first for every query on it: asked for 5, a second round's queries
# ("New York Stock Exchange", "Great Crash") returned the 5 articles the section held, added nothing and ended
# the loop, while the Dust Bowl, deflation and Keynes articles stood just below them.
DEPTH_MULTIPLE = 3


def search_depth(search_results: int, held: int) -> int:
    """Results to ask a query for: `search_results` new ones past the `held` passages (a document folder's page
    gives several), within the multiple."""
    return min(search_results + held, search_results * DEPTH_MULTIPLE)


async def search_with_retries(backend: SearchBackend, query: str, cfg: ResearchConfig) -> tuple[list[Source], bool | None]:
    """The sources and, for a cached backend, whether they came from the cache (None: no cache)."""
    outcome = await search_outcome_with_retries(backend, query, cfg)
    return outcome.sources, outcome.cache_hit


async def search_outcome_with_retries(
    backend: SearchBackend, query: str, cfg: ResearchConfig, k: int | None = None
) -> SearchOutcome:
    """Retry the transient failures a backend reports, by the one retry policy; anything else surfaces at once."""
    depth = cfg.search_results if k is None else k
    return await RetryPolicy.from_config(cfg).run(lambda: search_outcome(backend, query, depth))


async def naming_candidates(backend: SearchBackend, subject: TopicSubject) -> list[Source]:
    """The passages of the documents that name the subject (the knowledge base's lookup by name; nothing from a
    backend without one), each cut to the sentences naming it (nodes/text/excerpts.py). They compete in the
    relevance gate with what the queries found, judged by their naming sentences, from a document not unrelated
    to the topic."""
    lookup = naming_backend(backend)
    if lookup is None or not subject.names:
        return []
    found = await lookup.naming(sorted(subject.names), NAMING_DOCUMENTS)
    return [e for e in (naming_excerpt(s, subject.named_in) for s in found) if e is not None]


async def linked_candidates(backend: SearchBackend, sources: list[Source]) -> list[Source]:
    """The openings of the pages and sections that `sources` link to (a knowledge base of the user's documents;
    nothing from a corpus without links or from a web search). They compete in the relevance gate like any
    passage the queries found."""
    lookup = linked_backend(backend)
    if lookup is None or not sources:
        return []
    return await lookup.linked([s["url"] for s in sources], LINKED_DOCUMENTS)


def make_search_node(providers: Providers):
    async def search(state: BranchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        paragraph = state["paragraph"]
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        meter = StepMeter("search", paragraph["index"])
        rounds = list(paragraph.get("rounds") or [])
        queries = list(rounds[-1]["queries"]) if rounds else [paragraph["queries"][-1]]
        query = queries[0]
        relevance = providers.relevance()
        if paragraph["iterations"] <= 1 and relevance is not None:
            queries.append(section_query(state["topic"], paragraph))
        backend = await providers.asearch_backend(cfg)
        results: list[Source] = []
        cache_hit: bool | None = None
        warnings = list(paragraph.get("warnings") or [])
        depth = search_depth(cfg.search_results, len(paragraph["research"]))
        for q in queries:
            try:
                outcome = await search_outcome_with_retries(backend, q, cfg, depth)
            except PROVIDER_FAILURES as exc:
                reason = f"search backend '{backend.name}' failed for {q!r}: {type(exc).__name__}: {exc}"
                noted = {**paragraph, "warnings": warnings} if warnings else paragraph
                return {"paragraph": stop_research(noted, reason), "steps": meter.record()}
            results += outcome.sources
            warnings += [w for w in outcome.warnings if w not in warnings]
            hit = outcome.cache_hit
            cache_hit = hit if cache_hit is None else (cache_hit and bool(hit))
        subject = TopicSubject.from_dict(state.get("subject"))
        if relevance is not None and subject is not None and cfg.min_relevance is None:
            try:
                results += await naming_candidates(backend, subject)
            except PROVIDER_FAILURES as exc:  # the search by meaning found what it found: go on with that
                warnings.append(f"looking up the documents naming the subject failed: {type(exc).__name__}: {exc}")
        if relevance is not None:
            try:
                results += await linked_candidates(backend, [*paragraph["research"], *results])
            except PROVIDER_FAILURES as exc:
                warnings.append(f"following the sources' links failed: {type(exc).__name__}: {exc}")
        known = {s["id"] for s in paragraph["research"]}
        held = {normalize_url(s["url"]) for s in paragraph["research"]}
        # an excerpt of a document the section holds already would print its sentences twice
        fresh = list({s["id"]: s for s in results
                      if s["id"] not in known and not (s.get("focus") and normalize_url(s["url"]) in held)}.values())
        if relevance is None:
            gate = GateResult(fresh, [], 0)
        else:
            gate = await asyncio.to_thread(
                gate_sources, relevance, state["topic"], paragraph, fresh,
                known=paragraph["research"], limit=cfg.search_results, min_relevance=cfg.min_relevance,
                topic_cut=state.get("topic_cut"), subject=subject,
                named=[n for s in paragraph["research"] for n in mentioned_names(s["text"])],
                others=state.get("others") or (),
            )
        new = gate.kept
        if rounds:
            rounds[-1] = {**rounds[-1], "added": len(new)}
        updated: dict[str, Any] = {
            **paragraph,
            "rounds": rounds,
            "research": [*paragraph["research"], *new],
            "off_topic_dropped": paragraph.get("off_topic_dropped", 0) + len(gate.off_topic),
        }
        if warnings:
            updated["warnings"] = warnings
        if not new:
            updated["stop_reason"] = "empty_search"
            if not updated["research"]:
                dropped = f"; {len(gate.off_topic)} result(s) were off the topic" if gate.off_topic else ""
                updated.update(status="missing", error=f"no on-topic sources found (queries: {', '.join(map(repr, queries))}{dropped})")
        elif paragraph["iterations"] >= cfg.max_iterations:
            updated["stop_reason"] = "iteration_cap"
        if cache_hit is not None:
            meter.cache = "hit" if cache_hit else "miss"
        section_progress(paragraph, "searched", query=query, sources_found=len(new),
                         sources_total=len(updated["research"]), iteration=paragraph["iterations"])
        return {"paragraph": updated, "sources": new, "steps": meter.record()}

    return search
