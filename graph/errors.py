"""Typed errors: each says what went wrong in words a user can act on.

Provider failures (a model endpoint or search backend that keeps failing) are the one family the graph
absorbs: a section whose providers fail after retries is reported as missing. Everything else surfaces.
"""

from __future__ import annotations


class NexaError(Exception):
    """Base class for every error this library raises on purpose."""


class ResearchInputError(NexaError, ValueError):
    """The topic, a plan edit or a config value is not acceptable; raised before any model is called."""


class PlanningError(NexaError):
    """The planner could not produce a plan within the configured bounds after its attempts."""


class ProviderError(NexaError):
    """A model endpoint or search backend failed after its retries.

    `role` names the model role ("planner", "synthesizer", ...) or "search"; `endpoint` the URL or backend.
    """

    def __init__(self, message: str, *, role: str | None = None, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.role = role
        self.endpoint = endpoint


class SearchBackendError(ProviderError):
    """A search backend could not answer (network, auth, rate limit, corrupt index)."""


class StructuredOutputError(ProviderError):
    """A model's answer did not parse into the schema it was asked for."""


class ModelAssetError(NexaError):
    """A local model file is missing, incomplete or not the file it claims to be."""


class ServiceStartError(NexaError):
    """An embedded service (llama.cpp server, Redis Stack) could not be started."""
