"""Providers as deployed for search, scripted for chat: runs that test search, memory or caches need no LLM."""

from __future__ import annotations

from nexa_research.providers import ConfiguredProviders, ProviderSettings
from support.scripted_models import providers_for

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


class ScriptedModelsConfiguredSearch(ConfiguredProviders):
    """Search (and memory) exactly as deployed; scripted chat models so the test needs no LLM."""

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.scripted = providers_for(TITLES)

    def role_models(self, role, cfg):
        return self.scripted.role_models(role, cfg)

    def relevance(self):
        return None  # a made-up corpus: memory is under test, not relevance
