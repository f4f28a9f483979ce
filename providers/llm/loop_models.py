"""Chat models built once per event loop and reused by every node call on it, with one connection pool per endpoint.

Building a ChatOpenAI per node call threw away its connections after one request (a new TCP and TLS handshake
each time) and re-did the client setup. Reuse is bounded by the event loop: an async HTTP client's pooled
connections belong to the loop that opened them, and a process may run several loops in turn (`research()`
runs `asyncio.run` per call, LangServe and Studio run their own). So models are kept per (loop, role, resolved
settings), their HTTP clients per (loop, base URL), and the loop's owner releases both with `aclose()` before
the loop ends. Models of a loop that has been closed are dropped at the next `aclose()` (their connections
cannot be closed from another loop; they go with the garbage collector).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import openai
from langchain_openai import ChatOpenAI

from nexa_research.config import RoleModel
from nexa_research.providers.llm.endpoints import ModelTarget, build_chat_model


@dataclass
class _LoopModels:
    clients: dict[str, Any] = field(default_factory=dict)  # base URL -> async HTTP client (openai's httpx2 pool)
    models: dict[Hashable, list[ChatOpenAI]] = field(default_factory=dict)


class LoopModelCache:
    """Built chat models per (event loop, role, settings, targets); safe to use from worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopModels] = weakref.WeakKeyDictionary()

    def role_models(
        self, loop: asyncio.AbstractEventLoop, role: str, settings: RoleModel, targets: list[ModelTarget]
    ) -> list[ChatOpenAI]:
        """The models for `role` on `loop`, built on first use. Concurrent first uses build once (under a lock)."""
        key = (role, settings.model_dump_json(), tuple(targets))
        with self._lock:
            entry = self._loops.get(loop)
            if entry is None:
                entry = self._loops[loop] = _LoopModels()
            models = entry.models.get(key)
            if models is None:
                models = [build_chat_model(role, settings, t.endpoint, t.model, self._client(entry, t)) for t in targets]
                entry.models[key] = models
            return models

    @staticmethod
    def _client(entry: _LoopModels, target: ModelTarget) -> Any:
        """One pool per endpoint on the loop, shared by its roles; each request still carries its role's timeout."""
        base_url = target.endpoint.base_url
        if base_url not in entry.clients:
            entry.clients[base_url] = openai.DefaultAsyncHttpxClient()
        return entry.clients[base_url]

    def loops(self) -> int:
        """How many event loops currently hold models (for tests and diagnostics)."""
        with self._lock:
            return len(self._loops)

    async def aclose(self) -> None:
        """Close the HTTP clients opened for the running loop and forget its models; forget closed loops' too."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._loops.pop(loop, None)
            for closed in [other for other in self._loops if other.is_closed()]:
                del self._loops[closed]
        if entry is not None:
            for client in entry.clients.values():
                await client.aclose()
