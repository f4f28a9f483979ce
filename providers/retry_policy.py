"""The one retry policy for provider calls: how often a failing model or search call is tried again, and when.

Retries used to be stacked (the openai SDK's own retries under LangChain's `with_retry`), so one dead endpoint
cost (1 + SDK retries) x (1 + provider retries) requests before its fallback was tried. Now the SDK clients are
built with `max_retries=0` and `RetryPolicy.run` is the one place a provider call is retried: chat models
(providers/llm/chat_models.py, which then fall back to the role's next model) and search calls (the search node).
Only failures that may pass are retried (`ProviderError.transient`: timeouts, lost connections, 429, 5xx), with
exponential backoff and jitter, honouring a wait the service asked for (Retry-After).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from nexa_research.config import ResearchConfig
from nexa_research.errors import ProviderError

T = TypeVar("T")

MAX_BACKOFF_SECONDS = 10.0
MAX_ASKED_WAIT_SECONDS = 30.0  # a Retry-After longer than this is not waited out: the call fails over instead


def is_transient(exc: BaseException) -> bool:
    """Worth another try on the same endpoint: only a provider failure that says it may pass."""
    return isinstance(exc, ProviderError) and exc.transient


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all (1 = no retry); the first retry waits `first_wait` seconds, each next one twice
    as long (at most `MAX_BACKOFF_SECONDS`), plus up to half of that at random so parallel sections that hit
    a rate limit together do not come back together."""

    attempts: int = 1
    first_wait: float = 0.5

    @classmethod
    def from_config(cls, cfg: ResearchConfig) -> RetryPolicy:
        return cls(attempts=cfg.provider_retries + 1, first_wait=cfg.retry_wait_seconds)

    def wait_seconds(self, retry: int, asked: float | None = None) -> float:
        """The pause before retry number `retry` (1-based); a wait the service asked for wins if longer."""
        backoff = 0.0
        if self.first_wait > 0:
            backoff = min(self.first_wait * 2 ** (retry - 1), MAX_BACKOFF_SECONDS)
            backoff += random.uniform(0, backoff / 2)
        if asked is not None and 0 < asked <= MAX_ASKED_WAIT_SECONDS:
            return max(backoff, asked)
        return backoff

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        return self.wait_seconds(state.attempt_number, getattr(failure, "retry_after", None))

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Await `call()` until it succeeds, fails with a non-transient error, or the attempts are used up.

        The last error is raised as it is (never wrapped in tenacity's RetryError), so callers see the
        `ProviderError` with its reason; anything that is not a `ProviderError` is raised at once.
        """
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(max(1, self.attempts)),
            wait=self._wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await call()
        raise AssertionError("unreachable: tenacity re-raises the last failure")
