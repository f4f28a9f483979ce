"""Garbage collection tuned for a long-lived server process: startup objects frozen, young collections rarer.

A worker (and an API process alike) holds the whole import graph (LangChain, LangGraph, pydantic, redis-py, the compiled research graph):
hundreds of thousands of objects that live as long as the process. Python's full collections walk all of them,
and a batch of runs allocates fast enough to trigger one every second or so; its young collections ran every
700 net allocations, several hundred times per batch, mostly over the dicts of checkpoints being built. The CPU
per run with and without this is in bench/server.md (`bench/bench_run_cpu.py --gc worker|default`).

`gc.freeze()` moves every object alive at the time to a permanent generation that collections skip; objects
created later are collected as before, so nothing a run allocates is kept. A startup object that only later
becomes cyclic garbage is never freed, which is why this is done once, after startup, by a process that owns
itself (`nexa worker`, and the API process uvicorn starts from `nexa_research.server.app:app`), and never by
the library or an app a caller builds with `create_app`.
"""

from __future__ import annotations

import gc

# Net allocations between young collections (Python's default: 700), then the default ratios for the older two.
YOUNG_THRESHOLD, MIDDLE_RATIO, OLD_RATIO = 50_000, 10, 10


def freeze_startup_objects() -> None:
    """Collect once, freeze what survives, and space young collections out."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_RATIO, OLD_RATIO)
