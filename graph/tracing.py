"""LangSmith tracing of research runs: what a run's trace carries, when tracing is on, and sending before exit.

LangChain traces a graph run by itself when LANGSMITH_TRACING=true (or LANGCHAIN_TRACING_V2=true): the
graph's run is the trace's root, each node a child run named after the node, each model call a grandchild.
What it cannot know is what makes two runs comparable, so `trace_options` adds it as the root's metadata (which
LangChain passes down to every child): the prompt version per role, the models per role, the config hash, the
key's tier, the thread and run ids. The same function serves the library, the CLI and the workers, so a run's
trace looks the same whichever entry point started it.

Without an API key nothing must be sent and nothing must fail. langsmith would still trace (to a local
endpoint with no key; to the hosted one with a warning, then requests failing in its background thread), so
`configure_tracing()` switches langsmith's tracing off for the process when tracing is asked for with no key;
every entry point calls it once it has its environment (`ResearchRuntime` on opening is the one place that
covers them all). Traces leave from a background thread in batches; `flush_traces` waits for them, so a worker
calls it after each run and a short-lived CLI before it exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from nexa_research.config import ROLES, ResearchConfig
from nexa_research.prompts import prompt_versions

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph
    from langgraph.pregel import Pregel

logger = logging.getLogger("nexa_research.tracing")

TRACE_NAME = "nexa_research"
TRACE_TAG = "nexa-research"
# The variables langsmith reads, in its order: a "true" in the first one set decides (langsmith.utils).
_SWITCHES = ("LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", "LANGSMITH_TRACING", "LANGCHAIN_TRACING")
_KEYS = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")

# True while langsmith's tracing is off because of `configure_tracing` (and not because a caller said so).
_switched_off = False


def _env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def tracing_requested() -> bool:
    """The environment asks for LangSmith tracing, read as langsmith reads it (the value must be "true")."""
    v2 = _env(_SWITCHES[:2])
    return (v2 if v2 is not None else _env(_SWITCHES[2:])) == "true"


def tracing_enabled() -> bool:
    """Tracing is asked for and there is a key to send with: only then does a run's trace leave the process."""
    return tracing_requested() and _env(_KEYS) is not None


def configure_tracing() -> bool:
    """Make langsmith's tracing follow `tracing_enabled()` for this process; whether runs are traced.

    Called where a process (or a `ResearchRuntime`) starts, after its environment is settled; calling it again
    re-reads the environment. It only ever switches tracing *off* (asked for, no key) and undoes only its own
    switch, so a caller's own `langsmith.configure(enabled=...)` is left alone.
    """
    global _switched_off
    import langsmith
    from langsmith import utils as ls_utils

    cast(Any, ls_utils.get_env_var).cache_clear()  # langsmith caches its env reads (lru_cache, typed without it)
    if tracing_requested() and not tracing_enabled():
        if not _switched_off:
            logger.warning("LANGSMITH_TRACING is true but LANGSMITH_API_KEY is not set: runs are not traced")
        langsmith.configure(enabled=False)
        _switched_off = True
        return False
    if _switched_off:
        langsmith.configure(enabled=None)  # back to the environment
        _switched_off = False
    return tracing_enabled()


def trace_options(
    run_id: str | None,
    thread_id: str | None,
    cfg: ResearchConfig,
    resolved_models: Mapping[str, str | Sequence[str]] | None = None,
    tier: str | None = None,
) -> dict[str, Any]:
    """`metadata`, `tags` and `run_name` for a run's RunnableConfig (merge with `with_trace_options`).

    `resolved_models`: model labels per role as the run's providers resolved them, primary first
    (`await providers.adescribe_models(cfg)`: the report-cache node resolves them at the start of every run
    anyway); without it, the names the config sets (a role left to its provider's default shows as "default").
    `tier`: the API key's tier, None for the library and the CLI. Nothing here is secret or user text.
    """
    models: dict[str, Any]
    if resolved_models:
        models = {role: m if isinstance(m, str) else list(m) for role, m in resolved_models.items()}
    else:
        models = {role: cfg.models.for_role(role).model or "default" for role in ROLES}
    metadata = {
        "prompt_versions": prompt_versions(),
        "models": models,
        "config_hash": cfg.fingerprint(),
        "tier": tier,
        "thread_id": thread_id,
        "run_id": run_id,
    }
    tags = [TRACE_TAG] + ([f"tier:{tier}"] if tier else [])
    return {"metadata": metadata, "tags": tags, "run_name": TRACE_NAME}


def with_trace_options(config: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """`config` with `options` merged in: metadata merged (ours win over a caller's), tags added, run name set."""
    merged = dict(config)
    merged["metadata"] = {**(config.get("metadata") or {}), **(options.get("metadata") or {})}
    tags = list(config.get("tags") or [])
    merged["tags"] = tags + [t for t in options.get("tags") or [] if t not in tags]
    if options.get("run_name"):
        merged.setdefault("run_name", options["run_name"])
    return merged


def tag_nodes(graph: CompiledStateGraph[Any, Any, Any, Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Tag each node of a compiled graph `node:<name>`, in place (idempotent); the graph, for chaining.

    LangGraph names a node's run after the node and puts `langgraph_node` in the metadata of the node's run and
    everything under it, but its only per-node tags are `graph:step:<n>`. A node's tags are inherited, so with
    these the model calls of a node carry the node's tag too, and LangSmith's tag filter finds them. Subgraphs
    LangGraph finds under a node are tagged too, so `generate_query` in a section's branch carries both
    `node:research_paragraph` and `node:generate_query`.
    """
    subgraphs = [cast("Pregel[Any, Any, Any, Any]", sub) for _, sub in graph.get_subgraphs(recurse=True)]
    for compiled in (graph, *subgraphs):
        for name, node in compiled.nodes.items():
            tag = f"node:{name}"
            if not name.startswith("__") and tag not in (node.tags or []):
                node.tags = [*(node.tags or []), tag]
    return graph


def flush_traces() -> None:
    """Block until the traces queued in this process are sent (no-op when nothing was traced)."""
    from langchain_core.tracers.langchain import wait_for_all_tracers

    wait_for_all_tracers()


async def aflush_traces(timeout: float = 30.0) -> None:
    """`flush_traces` off the event loop, for a worker after each run.

    Waits at most `timeout` seconds, so a slow or unreachable LangSmith cannot hold a worker's slot: the
    sending goes on in its thread, and a trace that never arrives costs a warning, not a run.
    """
    try:
        await asyncio.wait_for(asyncio.to_thread(flush_traces), timeout)
    except TimeoutError:
        logger.warning("traces were not sent within %.0f s; sending continues in the background", timeout)
