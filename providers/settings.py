"""Deployment settings read from the environment: endpoints, keys and data locations.

These never travel in per-run config (they hold secrets and machine paths); `ResearchConfig` holds the knobs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The assembled model the embedded llama.cpp server loads when NEXA_LOCAL_MODEL_NAME is not set
# (names: providers/llm/model_file.py MODELS).
DEFAULT_LOCAL_MODEL_NAME = "qwen2.5-coder-0.5b"


def default_data_dir() -> Path:
    """Outside any checkout, so the assembled model and knowledge base survive fresh clones and are shared by runs."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nexa-research"


class ProviderSettings(BaseSettings):
    """Where models, search, Redis and Qdrant live. Read fresh from the environment on each call of `load`."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default_factory=lambda: default_data_dir(), validation_alias=AliasChoices("NEXA_DATA_DIR"))
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_model: str = Field(default="gpt-4.1-mini", validation_alias=AliasChoices("NEXA_OPENAI_MODEL"))
    openrouter_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENROUTER_API_KEY"))
    openrouter_base_url: str = Field(
        default="https://openrouter.ai/api/v1", validation_alias=AliasChoices("NEXA_OPENROUTER_BASE_URL")
    )
    openrouter_model: str = Field(default="openai/gpt-4.1-mini", validation_alias=AliasChoices("NEXA_OPENROUTER_MODEL"))
    llm_base_url: str | None = Field(default=None, validation_alias=AliasChoices("NEXA_LLM_BASE_URL"))
    llm_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("NEXA_LLM_API_KEY"))
    llm_model: str | None = Field(default=None, validation_alias=AliasChoices("NEXA_LLM_MODEL"))
    local_model: Path | None = Field(default=None, validation_alias=AliasChoices("NEXA_LOCAL_MODEL"))
    local_model_name: str = Field(
        default=DEFAULT_LOCAL_MODEL_NAME, validation_alias=AliasChoices("NEXA_LOCAL_MODEL_NAME")
    )
    local_ctx: int = Field(default=8192, ge=512, le=131072, validation_alias=AliasChoices("NEXA_LOCAL_CTX"))
    local_parallel: int = Field(default=4, ge=1, le=16, validation_alias=AliasChoices("NEXA_LOCAL_PARALLEL"))
    local_threads: int = Field(default=2, ge=1, le=64, validation_alias=AliasChoices("NEXA_LOCAL_THREADS"))
    exa_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("EXA_API_KEY"))
    exa_base_url: str = Field(default="https://api.exa.ai", validation_alias=AliasChoices("NEXA_EXA_BASE_URL"))
    qdrant_url: str | None = Field(default=None, validation_alias=AliasChoices("QDRANT_URL"))
    qdrant_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("QDRANT_API_KEY"))
    # The knowledge base's collection (Qdrant) or index (Redis); NEXA_QDRANT_COLLECTION is its older name.
    qdrant_collection: str = Field(
        default="nexa_kb", validation_alias=AliasChoices("NEXA_KB_COLLECTION", "NEXA_QDRANT_COLLECTION")
    )
    # Where the knowledge base lives: auto = Qdrant when QDRANT_URL is set, else Redis (providers/kb/store.py).
    kb_store: Literal["auto", "redis", "qdrant"] = Field(default="auto", validation_alias=AliasChoices("NEXA_KB"))
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL"))
    # "in_memory": LangGraph's InMemorySaver, for one process ("memory" is its older name here).
    checkpointer: Literal["redis", "in_memory", "none"] = Field(
        default="redis", validation_alias=AliasChoices("NEXA_CHECKPOINTER")
    )
    cache: bool = Field(default=True, validation_alias=AliasChoices("NEXA_CACHE"))

    @field_validator("checkpointer", mode="before")
    @classmethod
    def _older_checkpointer_name(cls, value: object) -> object:
        return "in_memory" if value == "memory" else value

    @classmethod
    def load(cls) -> ProviderSettings:
        return cls()

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()
