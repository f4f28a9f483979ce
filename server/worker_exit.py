"""The end of a `nexa worker` process: within its graceful-shutdown bound after it is told to stop, whatever its runs
are doing.

A worker's runs are asyncio tasks, and cancelling them frees them at once, but a call they made in a thread (a
model call through a sync client, an embedding, a blocking read) cannot be cancelled: the thread goes on until
the call returns. Python then waits for it twice: `asyncio.run` joins its default executor's threads, and the
interpreter joins every executor thread at exit. A worker stopped in the middle of such a call stayed alive,
idle, for as long as the call took (issue 19: 12 minutes, then a SIGKILL), and a deploy hung with it.

Once the worker has handed its runs back (each is queued again and continues from its checkpoint on another
worker), nothing those threads compute can be used, so the guard ends the process without waiting for them:
a moment after the worker closed everything (a normal exit takes milliseconds when no call is stuck), and in any
case when the bound is reached, with exit code 0 when the runs were handed back and 1 when they were not (their
leases then expire and the reapers re-queue them, as after a SIGKILL). A second SIGTERM or Ctrl-C ends the
process at once.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

logger = logging.getLogger("nexa_research.worker")

AFTER_CLOSE_SECONDS = 2.0  # how long a worker that closed everything may take to exit on its own


class ExitGuard:
    """Armed when a worker starts stopping; ends the process by `bound_seconds` from then at the latest."""

    def __init__(self, bound_seconds: float) -> None:
        self.bound_seconds = bound_seconds
        self.handed_back = threading.Event()  # every run the worker held is queued again
        self.closed = threading.Event()  # the worker closed its queue, Redis and runtime
        self._armed = False

    def arm(self) -> None:
        if self._armed:
            return
        self._armed = True
        threading.Thread(target=self._watch, name="nexa-worker-exit", daemon=True).start()

    def exit_now(self) -> None:
        """Leave without waiting for anything (a second stop signal)."""
        logger.warning("worker: stopped again; exiting now")
        self._exit()

    def _watch(self) -> None:
        deadline = time.monotonic() + self.bound_seconds
        if self.closed.wait(timeout=max(0.0, deadline - time.monotonic())):
            time.sleep(min(AFTER_CLOSE_SECONDS, max(0.0, deadline - time.monotonic())))
            busy = [t.name for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
            logger.warning("worker: threads still busy in calls of handed-back runs (%s); exiting without them",
                           ", ".join(busy[:8]))
        else:
            logger.error("worker: not stopped within %g s (runs handed back: %s); exiting",
                         self.bound_seconds, self.handed_back.is_set())
        self._exit()

    def _exit(self) -> None:
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0 if self.handed_back.is_set() else 1)
