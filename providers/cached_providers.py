"""Providers behind the Redis cache: the same models, and the search backend wrapped in `CachedSearch`.

Wrapping at the provider level keeps nodes unaware of caching; a wrapper is made per run because the cache's
asyncio client belongs to the run's event loop.
"""

from __future__ import annotations

from nexa_research.config import ResearchConfig
from nexa_research.providers.llm.chat_models import RoleModelSet
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.redis_cache import CachedSearch, RedisCache
from nexa_research.providers.relevance import Relevance
from nexa_research.providers.search.protocol import SearchBackend


class CachingProviders(Providers):
    def __init__(self, inner: Providers, cache: RedisCache) -> None:
        self.inner = inner
        self.cache = cache
        self._wrapped: dict[int, CachedSearch] = {}

    def role_models(self, role: str, cfg: ResearchConfig) -> RoleModelSet:
        return self.inner.role_models(role, cfg)

    def search_backend(self, cfg: ResearchConfig) -> SearchBackend:
        return self._wrap(self.inner.search_backend(cfg))

    def _wrap(self, backend: SearchBackend) -> SearchBackend:
        if id(backend) not in self._wrapped:
            self._wrapped[id(backend)] = CachedSearch(backend, self.cache)
        return self._wrapped[id(backend)]

    def describe_models(self, cfg: ResearchConfig) -> dict[str, list[str]]:
        return self.inner.describe_models(cfg)

    def relevance(self) -> Relevance | None:
        return self.inner.relevance()

    def report_cache(self) -> RedisCache:
        return self.cache

    async def asearch_name(self, cfg: ResearchConfig) -> str:
        return await self.inner.asearch_name(cfg)

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def arole_models(self, role: str, cfg: ResearchConfig) -> RoleModelSet:
        return await self.inner.arole_models(role, cfg)

    async def asearch_backend(self, cfg: ResearchConfig) -> SearchBackend:
        return self._wrap(await self.inner.asearch_backend(cfg))

    async def adescribe_models(self, cfg: ResearchConfig) -> dict[str, list[str]]:
        return await self.inner.adescribe_models(cfg)
