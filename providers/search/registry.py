"""Search backends by name, so a run picks one with `search_backend="..."` and no code changes.

Built-in names load their module only when asked for, so the in-memory path needs neither a knowledge base nor
Exa nor an MCP client. `kb` is the local knowledge base, whichever store holds it (Redis or Qdrant: NEXA_KB, QDRANT_URL);
`qdrant` is its name from before the store was a choice, kept so existing configs still work.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError
from nexa_research.providers.search.protocol import SearchBackend
from nexa_research.providers.settings import ProviderSettings

SearchFactory = Callable[[ResearchConfig, ProviderSettings], SearchBackend]

_BUILTIN: dict[str, str] = {
    "kb": "nexa_research.providers.search.knowledge_base:backend_from_settings",
    "exa": "nexa_research.providers.search.exa:backend_from_settings",
}
_ALIASES = {"qdrant": "kb"}
# `mcp:<server>`: a search tool of an MCP server the deployment lists (providers/search/mcp_servers.py).
MCP_PREFIX = "mcp:"
_MCP_FACTORY = "nexa_research.providers.search.mcp_search:backend_from_settings"
_REGISTERED: dict[str, SearchFactory] = {}


def register_search_backend(name: str, factory: SearchFactory) -> None:
    """Make `search_backend=name` build a backend with `factory(config, settings)`."""
    _REGISTERED[name] = factory


def backend_names() -> list[str]:
    return sorted({"auto", *_BUILTIN, *_ALIASES, *_REGISTERED})


def resolve_backend_name(cfg: ResearchConfig, settings: ProviderSettings) -> str:
    """`auto` means Exa when EXA_API_KEY is set, else the local knowledge base; `qdrant` is the knowledge base too."""
    if cfg.search_backend in _REGISTERED:
        return cfg.search_backend
    if cfg.search_backend != "auto":
        return _ALIASES.get(cfg.search_backend, cfg.search_backend)
    return "exa" if settings.exa_api_key else "kb"


def build_search_backend(cfg: ResearchConfig, settings: ProviderSettings) -> SearchBackend:
    name = resolve_backend_name(cfg, settings)
    if name in _REGISTERED:
        return _REGISTERED[name](cfg, settings)
    if name in _BUILTIN or name.startswith(MCP_PREFIX):
        module, _, attr = _BUILTIN.get(name, _MCP_FACTORY).partition(":")
        factory: SearchFactory = getattr(importlib.import_module(module), attr)
        return factory(cfg, settings)
    raise ResearchInputError(f"search_backend: unknown backend {name!r}; known: {', '.join(backend_names())}, "
                             f"or {MCP_PREFIX}<server> for a server in NEXA_MCP_SERVERS")
