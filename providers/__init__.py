"""What nodes call: chat models per role, search backends, embeddings, caches and local runtimes."""

from nexa_research.providers.chat_models import PROVIDER_FAILURES, RoleModelSet
from nexa_research.providers.memory_search import InMemorySearch
from nexa_research.providers.provider_set import ConfiguredProviders, Providers, StaticProviders
from nexa_research.providers.search import SearchBackend, make_source, source_id
from nexa_research.providers.search_registry import register_search_backend
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
