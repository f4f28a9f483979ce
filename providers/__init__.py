"""What nodes call: chat models per role, search backends, embeddings, caches and local runtimes."""

from nexa_research.providers.llm.chat_models import PROVIDER_FAILURES, RoleModelSet
from nexa_research.providers.provider_set import ConfiguredProviders, Providers, StaticProviders
from nexa_research.providers.search.in_memory import InMemorySearch
from nexa_research.providers.search.protocol import SearchBackend, make_source, source_id
from nexa_research.providers.search.registry import register_search_backend
from nexa_research.providers.settings import ProviderSettings

__all__ = [
    "PROVIDER_FAILURES",
    "ConfiguredProviders",
    "InMemorySearch",
    "ProviderSettings",
    "Providers",
    "RoleModelSet",
    "SearchBackend",
    "StaticProviders",
    "make_source",
    "register_search_backend",
    "source_id",
]
