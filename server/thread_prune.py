"""Removing threads: `DELETE /threads/{id}` and `POST /threads/prune` (langgraph_sdk's `client.threads.prune`).

A thread is removed with the deletion `nexa threads prune` uses (nexa_research/retention.py: every key the
checkpointer and the server keep for it, found through their indexes), plus its runs' entries in the server's
index of active runs and its crons, so there is one way a thread goes, whoever removes it (DELETE, prune, a
deleted assistant's `delete_threads`, a stateless cron's finished run).

Prune takes a list of thread ids and a strategy, and answers `{"pruned_count": n}` as the official server does:
- "delete" removes the threads, as DELETE does;
- "keep_latest" keeps each thread, its runs and its latest checkpoint of every namespace (the graph's and each
  section subgraph's, so an interrupted thread still resumes), with that checkpoint's pending writes, and deletes
  the older checkpoints and their writes. The Redis checkpointer stores channel values in each checkpoint, so the
  latest one stands alone; the official in-memory server refuses this strategy (422), as this server does without
  a Redis checkpointer.
Threads the caller cannot see (unknown, another key's) are skipped and not counted, as the official server skips
threads it cannot find. A thread with a run pending or running is never pruned: its run would go on writing to
a thread being taken apart and its work would be lost without anyone asking for that. The request is refused
(409, naming the thread) before anything is pruned; cancel the run or wait for it. A thread waiting for plan
review has no run in progress: it is pruned like any other, as the official server prunes it.
"""

from __future__ import annotations

from typing import Literal

from langgraph.checkpoint.redis.aio import AsyncRedisSaver

from nexa_research.providers.checkpointer import MAX_THREAD_DOCS
from nexa_research.server.api_errors import ApiError
from nexa_research.server.context import ServerContext
from nexa_research.server.cron_records import CronStore
from nexa_research.server.thread_keys import server_thread_keys

Strategy = Literal["delete", "keep_latest"]


async def remove_thread(ctx: ServerContext, thread_id: str) -> None:
    """Delete everything of a thread: checkpoints, records, its runs' records, event logs, results and crons."""
    await CronStore(ctx.redis).delete_for_thread(thread_id)  # its crons fire no more
    retention = ctx.runtime.retention
    if retention is not None:
        keys = await retention.keys(thread_id)  # named before the records that list the runs go
        await ctx.store.delete_thread(thread_id)
        await retention.delete(thread_id, keys)
        return
    _, buffers = await server_thread_keys(ctx.redis, thread_id)  # no Redis checkpointer: the saver deletes its own
    await ctx.store.delete_thread(thread_id)
    if buffers:
        await ctx.redis.delete(*buffers)
    if ctx.runtime.checkpointer is not None:
        await ctx.runtime.checkpointer.adelete_thread(thread_id)


async def prune_threads(ctx: ServerContext, owner: str | None, thread_ids: list[str], strategy: Strategy) -> int:
    """Prune the caller's threads among `thread_ids`; the number pruned."""
    saver = ctx.runtime.checkpointer
    if strategy == "keep_latest" and not isinstance(saver, AsyncRedisSaver):
        raise ApiError(422, "strategy: 'keep_latest' needs the Redis checkpointer (NEXA_CHECKPOINTER=redis); "
                            "this server keeps checkpoints elsewhere, use 'delete'")
    owned = [t for t in dict.fromkeys(thread_ids) if await ctx.thread_record(t, owner) is not None]
    for thread_id in owned:
        active = await ctx.store.active_runs_of(thread_id)
        if active:
            raise ApiError(409, f"thread_ids: thread {thread_id!r} has run {active[0]['run_id']} "
                                f"{active[0]['status']}; cancel it or wait for it to finish, then prune (nothing "
                                "was pruned)")
    pruned = 0
    for thread_id in owned:
        async with ctx.store.thread_lock(thread_id):  # no run starts on it meanwhile
            if await ctx.store.active_runs_of(thread_id):
                continue  # a run started since the check above: the thread is kept, and not counted
            if strategy == "delete":
                await remove_thread(ctx, thread_id)
            else:
                assert isinstance(saver, AsyncRedisSaver)
                await saver.aprune([thread_id], strategy="keep_latest", max_results=MAX_THREAD_DOCS)
            pruned += 1
    return pruned
