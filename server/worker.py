"""`nexa worker`: a process that executes runs from the job queue, several at a time, each under a run lease.

A worker opens one `ResearchRuntime` (the same owner the library, CLI and LangServe use) and a taskiq receiver
on the queue (server/job_queue.py) with `concurrency` slots. For each "execute run R" message it takes R's
lease (server/lease.py) or drops the message when another worker holds it; waits, under the lease, until the
runs created before R on the same thread are done (multitask strategy "enqueue"); then executes R
(server/execution.py) while the worker's one watcher (server/run_watch.py) renews the leases of all its runs and
checks every second whether any was cancelled. Once started, the process's startup objects are frozen out of
garbage collection (server/process_gc.py): collections walking them were a large share of a run's CPU.

Stopping: SIGTERM/SIGINT let the worker hand its running runs back (lease released, run queued again) so another
worker continues them from their checkpoints at once, and the process exits within `shutdown_seconds` whatever
its runs were doing (server/worker_exit.py); SIGKILL is covered by the lease TTL and the reaper.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver

from nexa_research.errors import NexaError
from nexa_research.providers.provider_set import Providers
from nexa_research.runtime import ResearchRuntime
from nexa_research.server.event_log import EventLog, RunEvents
from nexa_research.server.execution import checkpoint_of, execute_run
from nexa_research.server.job_queue import EXECUTE_RUN, enqueue_run, make_broker
from nexa_research.server.lease import RunLease, cancel_requested
from nexa_research.server.observability.logs import bind_run
from nexa_research.server.observability.run_metrics import RunMetrics
from nexa_research.server.process_gc import freeze_startup_objects
from nexa_research.server.reaper import Reaper
from nexa_research.server.records import FINAL_STATUSES, RecordStore, new_id
from nexa_research.server.run_results import store_result
from nexa_research.server.run_watch import RunWatch
from nexa_research.server.settings import ServerSettings
from nexa_research.server.worker_exit import ExitGuard
from nexa_research.tracing import aflush_traces

logger = logging.getLogger("nexa_research.worker")


class _Stop(Exception):
    """Why a run's task was cancelled by its own worker."""


class Worker:
    """`owns_process`: this worker is its process's purpose (`nexa worker`), so once stopped it ends the process
    within `shutdown_seconds` rather than wait for calls its handed-back runs left in threads."""

    def __init__(
        self, redis_url: str, settings: ServerSettings | None = None, providers: Providers | None = None,
        worker_id: str | None = None, owns_process: bool = True,
    ) -> None:
        self.redis_url = redis_url
        self.settings = settings or ServerSettings()
        self.providers = providers
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{new_id()[:8]}"
        self.running: dict[str, asyncio.Task[Any]] = {}
        self._reasons: dict[str, str] = {}
        self._started: dict[str, float] = {}  # run id -> when this worker started executing it
        self._stopping = False
        self._exit = ExitGuard(self.settings.shutdown_seconds) if owns_process else None

    async def serve(self, stop: asyncio.Event) -> None:
        """Execute runs until `stop` is set; then hand back what is still running."""
        settings = self.settings
        async with ResearchRuntime(self.providers) as runtime:
            self.runtime = runtime
            self.redis = settings.redis_client(self.redis_url)
            self.store, self.log = RecordStore(self.redis), EventLog(self.redis, settings.event_retention_seconds)
            self.metrics = RunMetrics(self.redis)
            self.broker = make_broker(self.redis_url, consumer_name=self.worker_id)

            async def execute(run_id: str) -> None:  # taskiq registers plain functions, not bound methods
                await self._execute(run_id)

            self.broker.register_task(execute, task_name=EXECUTE_RUN)
            await self.broker.startup()
            reaper = Reaper(self.redis, self.store, self.broker, self.worker_id, settings)
            self.watch = RunWatch(self.redis, settings.lease_ttl_seconds, self._stop_run)
            self.broker.is_worker_process = True
            if self._exit is not None:  # a process of its own: nothing it has now is garbage later
                freeze_startup_objects()
            finish = asyncio.Event()
            listening = asyncio.create_task(self._listen(finish))
            reaping = asyncio.create_task(reaper.loop(lambda: len(self.running)))
            watching = asyncio.create_task(self.watch.loop())
            logger.info("worker %s: %d slots on %s", self.worker_id, settings.worker_concurrency, self.broker.queue_name)
            try:
                await stop.wait()
            finally:
                self._stopping = True
                self._arm_exit()
                finish.set()  # the receiver takes no new message
                await self._hand_back(settings.shutdown_seconds / 3)
                if self._exit is not None:
                    self._exit.handed_back.set()
                for background in (reaping, watching):
                    background.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await background
                try:
                    await asyncio.wait_for(listening, timeout=settings.shutdown_seconds / 6)
                except TimeoutError:
                    logger.warning("worker %s: the queue listener did not stop in time", self.worker_id)
                await reaper.forget()
                await self.broker.shutdown()
                await self.redis.aclose()
        if self._exit is not None:
            self._exit.closed.set()

    def _arm_exit(self) -> None:
        """From now on the process ends within its bound; a second stop signal ends it at once."""
        if self._exit is None:
            return
        self._exit.arm()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):  # not the main thread: the bound still holds
                loop.add_signal_handler(sig, self._exit.exit_now)

    async def _listen(self, finish: asyncio.Event) -> None:
        """The taskiq receiver, started again if it fails (a lost connection): a worker whose listener died would
        still look alive (its reaper beats) while it never takes another run."""
        executor = ThreadPoolExecutor(max_workers=1)
        while not finish.is_set():
            receiver = Receiver(
                self.broker, executor, max_async_tasks=self.settings.worker_concurrency, max_prefetch=0,
                run_startup=False, ack_type=AcknowledgeType.WHEN_RECEIVED, propagate_exceptions=False,
            )
            try:
                await receiver.listen(finish)
            except Exception:  # noqa: BLE001 - whatever stopped it, log it and listen again
                logger.exception("worker %s: the queue listener failed; listening again", self.worker_id)
                await asyncio.sleep(1)
        executor.shutdown(wait=False)

    async def _hand_back(self, wait_seconds: float) -> None:
        """Stop the running runs and queue each again for another worker. A run still busy after `wait_seconds`
        (its task ignored the cancel) is handed back all the same: its lease is released, since the process is
        about to end and cannot go on with it."""
        held = dict(self.running)
        for run_id, task in held.items():
            self._reasons[run_id] = "shutdown"
            task.cancel()
        if held:
            await asyncio.wait(held.values(), timeout=wait_seconds)
        for run_id, task in held.items():
            if not task.done():
                logger.warning("run %s: still busy %g s after its cancel; handed back anyway", run_id, wait_seconds)
                await RunLease(self.redis, run_id, self.worker_id, self.settings.lease_ttl_seconds).release()
            run = await self.store.get_run(run_id)
            if run is not None and run["status"] not in FINAL_STATUSES:
                await enqueue_run(self.broker, run_id)

    async def _execute(self, run_id: str) -> None:
        """The task behind each queue message."""
        run = await self.store.get_run(run_id)
        if run is None or run["status"] in FINAL_STATUSES:
            return
        if self._stopping:  # received as the worker stopped: its message is acknowledged, so queue it again
            await enqueue_run(self.broker, run_id)
            return
        lease = RunLease(self.redis, run_id, self.worker_id, self.settings.lease_ttl_seconds)
        if not await lease.acquire():
            return  # another worker holds it
        task = asyncio.current_task()
        assert task is not None
        self.running[run_id] = task
        self.watch.add(run_id, lease)
        bound = bind_run(run)
        try:
            await self._hold(run_id)
        except asyncio.CancelledError:
            reason = self._reasons.pop(run_id, "shutdown")
            if reason.startswith("cancel"):
                await self._finish(run_id, "interrupted", None, None)
            elif reason != "shutdown":
                logger.warning("run %s: %s; another worker continues it", run_id, reason)
            # Shutdown: `_hand_back` queues the run again; returning (not raising) keeps taskiq from logging a
            # stopped run as a failed task.
        finally:
            self.watch.discard(run_id)
            self.running.pop(run_id, None)
            await lease.release()
            await aflush_traces()
            bound.__exit__(None, None, None)

    async def _hold(self, run_id: str) -> None:
        """Under the lease: wait for the thread's earlier runs, then execute."""
        run = await self.store.get_run(run_id)
        if run is None or run["status"] in FINAL_STATUSES:
            return
        if await cancel_requested(self.redis, run_id):
            await self._finish(run_id, "interrupted", None, None)
            return
        while True:
            earlier = [r for r in await self.store.active_runs_of(run["thread_id"]) if r["created_at"] < run["created_at"]]
            if not earlier:
                break
            await asyncio.sleep(0.5)
        events = RunEvents(self.log, run_id)
        try:
            # Inside the try: a failure here (Redis busy, say) is the run's error at once, not a run left pending.
            attempt = int(run.get("attempt") or 0) + 1
            snapshot = await self.runtime.snapshot(run["thread_id"])
            base = run.get("base_checkpoint") if attempt > 1 else checkpoint_of(snapshot)
            run = await self.store.put_run({**run, "status": "running", "attempt": attempt, "base_checkpoint": base,
                                            "worker_id": self.worker_id})
            self._started[run_id] = time.monotonic()
            await events.publish("metadata", {"run_id": run_id, "attempt": attempt})
            logger.info("run started", extra={"attempt": attempt, "worker_id": self.worker_id})
            result = await execute_run(self.runtime, run, events.publish, base, attempt, snapshot)
            await events.flush()  # every event is in the log before the run is recorded as done
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the run is reported on the run, then logged
            if not isinstance(exc, NexaError):
                logger.exception("run %s failed", run_id)
            error = {"error": type(exc).__name__, "message": str(exc)}
            await events.publish("error", error)
            await events.flush()
            await self._finish(run_id, "error", None, error)
            return
        await self._finish(run_id, "success", result, None)

    async def _finish(self, run_id: str, status: str, result: Any, error: dict[str, str] | None) -> None:
        if result is not None or error is not None:
            await store_result(self.redis, run_id, result if error is None else {"__error__": error},
                               self.settings.event_retention_seconds)
        run = await self.store.update_run(run_id, status=status, error=error)
        started = self._started.pop(run_id, None)
        logger.info("run finished", extra={"status": status, "error": (error or {}).get("error")})
        if run is not None:
            await self.metrics.run_finished(run, result if error is None else None,
                                            time.monotonic() - started if started is not None else 0.0)
            thread = await self.store.get_thread(run["thread_id"])
            if thread is not None:
                await self.store.put_thread({**thread, "error": error})
        await self.log.end(run_id)

    def _stop_run(self, run_id: str, reason: str) -> None:
        """The watcher's verdict (cancelled, or lease lost): stop the run's task, saying why."""
        task = self.running.get(run_id)
        if task is not None:
            self._reasons[run_id] = reason
            task.cancel()
