"""What nodes call: chat models per role and a search backend, behind one small interface.

Nodes never build clients themselves. A graph is built with a `Providers`; tests and notebooks hand in
`StaticProviders` (fake models, an in-memory corpus), deployments use `ConfiguredProviders`, which resolves
endpoints and backends from per-run config and the environment.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel

from nexa_research.config import ROLES, ResearchConfig
from nexa_research.providers.llm.chat_models import RoleModelSet
from nexa_research.providers.relevance import Relevance, default_relevance
from nexa_research.providers.retry_policy import RetryPolicy
from nexa_research.providers.search.protocol import SearchBackend
from nexa_research.providers.settings import ProviderSettings

T = TypeVar("T")

# The event loop an `arole_models` call was awaited on, for `role_models` running in a worker thread on its behalf.
_CALLER_LOOP: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("nexa_caller_loop", default=None)


async def _in_thread_for_this_loop(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a worker thread that knows the caller's event loop (`_CALLER_LOOP`), so what it builds for
    that loop (chat models and their connections) is cached for it and not for the thread."""
    token = _CALLER_LOOP.set(asyncio.get_running_loop())
    try:
        return await asyncio.to_thread(fn, *args)  # to_thread hands the thread a copy of this context
    finally:
        _CALLER_LOOP.reset(token)


class Providers(ABC):
    """Resolves a role's models and the run's search backend for one run's config."""

    @abstractmethod
    def role_models(self, role: str, cfg: ResearchConfig) -> RoleModelSet: ...

    @abstractmethod
    def search_backend(self, cfg: ResearchConfig) -> SearchBackend: ...

    def validate(self, cfg: ResearchConfig) -> None:
        """Raise `ResearchInputError` for settings that cannot work, before any model is called."""

    def relevance(self) -> Relevance | None:
        """How nodes score passages and sentences against the topic and the section (gates, selection, de-duplication).

        None turns the scoring off: no relevance gate, no corpus survey before planning, and sections written by the
        model (extractive writing needs a scorer to choose sentences).
        """
        return default_relevance()

    # Resolving can block (opening Qdrant, loading the embedding model, starting llama.cpp, TLS setup), so nodes
    # call these from the event loop and the work runs in a thread; fixed providers override them to skip that.
    async def arole_models(self, role: str, cfg: ResearchConfig) -> RoleModelSet:
        return await _in_thread_for_this_loop(self.role_models, role, cfg)

    async def asearch_backend(self, cfg: ResearchConfig) -> SearchBackend:
        return await asyncio.to_thread(self.search_backend, cfg)

    async def adescribe_models(self, cfg: ResearchConfig) -> dict[str, list[str]]:
        return await _in_thread_for_this_loop(self.describe_models, cfg)

    def describe_models(self, cfg: ResearchConfig) -> dict[str, list[str]]:
        """Model labels per role, primary first, for report metadata."""
        return {role: self.role_models(role, cfg).labels for role in ROLES}

    def close(self) -> None:
        """Release what the providers opened (knowledge-base folder locks, clients)."""

    async def aclose(self) -> None:
        """Release what the providers opened on the running event loop (the chat models' HTTP connections).

        The owner of a loop that ran the graph calls it before the loop ends (`ResearchRuntime` does); the
        providers stay usable and build afresh on the next loop.
        """

    def report_cache(self) -> Any:
        """Where finished reports are cached (a `RedisCache`), or None: the graph then always researches."""
        return None

    async def asearch_name(self, cfg: ResearchConfig) -> str:
        """The backend a run on `cfg` really searches ("auto" resolved): part of a cached report's identity."""
        return str((await self.asearch_backend(cfg)).name)


class StaticProviders(Providers):
    """Fixed models and backend: one chat model for every role, or a mapping role -> model (or model list).

    `relevance`: the scorer behind the relevance gate, the corpus survey and extractive writing (for example
    `EmbeddingRelevance(default_embedder())` or `LexicalRelevance()`); None (the default) runs without them."""

    def __init__(
        self,
        chat: BaseChatModel | Mapping[str, BaseChatModel | Sequence[BaseChatModel]],
        search: SearchBackend,
        relevance: Relevance | None = None,
    ) -> None:
        self._chat = chat
        self._search = search
        self._relevance = relevance

    def relevance(self) -> Relevance | None:
        return self._relevance

    def role_models(self, role: str, cfg: ResearchConfig) -> RoleModelSet:
        chosen = self._chat[role] if isinstance(self._chat, Mapping) else self._chat
        models = list(chosen) if isinstance(chosen, Sequence) else [chosen]
        return RoleModelSet(role=role, models=models, policy=RetryPolicy.from_config(cfg))

    def search_backend(self, cfg: ResearchConfig) -> SearchBackend:
        return self._search

    async def arole_models(self, role: str, cfg: ResearchConfig) -> RoleModelSet:
        return self.role_models(role, cfg)

    async def asearch_backend(self, cfg: ResearchConfig) -> SearchBackend:
        return self._search

    async def adescribe_models(self, cfg: ResearchConfig) -> dict[str, list[str]]:
        return self.describe_models(cfg)


class ConfiguredProviders(Providers):
    """Endpoints from the environment (OpenAI, OpenRouter, any base URL, else embedded llama.cpp); backends by name.

    The environment is read once, on first use (or `settings` is given). Chat models are built once per event
    loop, role and resolved settings and reused by every node call on that loop (providers/llm/loop_models.py);
    `aclose()` releases the running loop's. Backends are built once per distinct name and reused across runs,
    because opening a knowledge base or loading an embedding model is expensive.
    """

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        from nexa_research.providers.llm.loop_models import LoopModelCache

        self._settings = settings
        self._backends: dict[str, SearchBackend] = {}
        self._models = LoopModelCache()

    @property
    def settings(self) -> ProviderSettings:
        if self._settings is None:
            self._settings = ProviderSettings.load()
        return self._settings

    def validate(self, cfg: ResearchConfig) -> None:
        from nexa_research.providers.llm.endpoints import check_role_settings

        check_role_settings(cfg.models)

    def role_models(self, role: str, cfg: ResearchConfig) -> RoleModelSet:
        """Cached for the caller's event loop (the running one, or the one `arole_models` was awaited on);
        built afresh on default connections when there is none."""
        from nexa_research.providers.llm.endpoints import build_chat_model, role_targets

        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = _CALLER_LOOP.get()
        settings = cfg.models.for_role(role)
        targets = role_targets(role, settings, self.settings)
        if loop is None:
            models = [build_chat_model(role, settings, t.endpoint, t.model) for t in targets]
        else:
            models = self._models.role_models(loop, role, settings, targets)
        return RoleModelSet(role=role, models=models, policy=RetryPolicy.from_config(cfg))

    async def aclose(self) -> None:
        await self._models.aclose()

    def close(self) -> None:
        backends, self._backends = list(self._backends.values()), {}
        for backend in backends:
            close = getattr(backend, "close", None)
            if callable(close):
                close()

    def search_backend(self, cfg: ResearchConfig) -> SearchBackend:
        from nexa_research.providers.search.registry import build_search_backend, resolve_backend_name

        key = f"{resolve_backend_name(cfg, self.settings)}:{cfg.kb_collection}:{cfg.search_results}:{cfg.use_memory}"
        if key not in self._backends:
            backend = build_search_backend(cfg, self.settings)
            if cfg.use_memory:
                from nexa_research.providers.search.research_memory import RememberingSearch, open_memory

                settings = self.settings
                backend = RememberingSearch(backend, lambda: open_memory(settings))
            self._backends[key] = backend
        return self._backends[key]
