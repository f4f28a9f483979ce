"""Typed errors: each says what went wrong in words a user can act on.

Provider failures are the one family the graph absorbs. Providers translate whatever their SDK or HTTP client
raises (openai, httpx, exa-py, llama.cpp's answers) into `ProviderError`, so a node catches that one type: a
section whose providers fail after the retry policy is reported as missing, with the reason. Everything else
(our own ValueError, KeyError, TypeError...) is a bug and surfaces.
"""

from __future__ import annotations

# HTTP statuses worth another try on the same endpoint: a request timeout, rate limiting, server trouble.
TRANSIENT_STATUS = frozenset({408, 429})


class NexaError(Exception):
    """Base class for every error this library raises on purpose."""


class ResearchInputError(NexaError, ValueError):
    """The topic, a plan edit or a config value is not acceptable; raised before any model is called."""


class PlanningError(NexaError):
    """The planner could not produce a plan within the configured bounds after its attempts."""


class ProviderError(NexaError):
    """A model endpoint or search backend failed: translated by the provider from its SDK's exception.

    `role` names the model role ("planner", "synthesizer", ...) or "search"; `endpoint` the URL or backend;
    `model` the label of the model that failed ("<base url> <model>"); `reason` what went wrong, in a few words;
    `status` the HTTP status when there was one. `transient` says whether trying the same endpoint again may
    help (timeouts, lost connections, 429, 5xx); when not given it follows from `status` (no status: a service
    failure of unknown kind, assumed transient). `retry_after` is the wait in seconds the service asked for.
    """

    status: int | None = None  # a class default, so a subclass may fix the status of every instance

    def __init__(
        self,
        message: str,
        *,
        role: str | None = None,
        endpoint: str | None = None,
        model: str | None = None,
        reason: str | None = None,
        status: int | None = None,
        transient: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.role = role
        self.endpoint = endpoint
        self.model = model
        self.reason = reason or message
        if status is not None:
            self.status = status
        self._transient = transient
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        if self._transient is not None:
            return self._transient
        return self.status is None or self.status in TRANSIENT_STATUS or self.status >= 500


class SearchBackendError(ProviderError):
    """A search backend could not answer (network, auth, rate limit, corrupt index)."""


class StructuredOutputError(ProviderError):
    """A model's answer did not parse into the schema it was asked for, even after repair (or was cut off).

    Not transient: the same request is not sent again as is; the caller may ask again with the reason.
    """

    def __init__(self, message: str, **details: object) -> None:
        details.setdefault("transient", False)
        super().__init__(message, **details)  # type: ignore[arg-type]


class ModelAssetError(NexaError):
    """A local model file is missing, incomplete or not the file it claims to be."""


class ServiceStartError(NexaError):
    """An embedded service (llama.cpp server, Redis Stack) could not be started."""
