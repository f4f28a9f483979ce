"""Deployment settings read from the environment: endpoints, keys and data locations.

These never travel in per-run config (they hold secrets and machine paths); `ResearchConfig` holds the knobs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nexa_research.errors import ResearchInputError

# Longest retention accepted (a century): longer is "forever", which is spelled 0.
MAX_RETENTION_DAYS = 36_500.0

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
    # None: sized to the machine (providers/llm/model_launch.py), so that every process on it shares one server.
    local_parallel: int | None = Field(default=None, ge=1, le=16, validation_alias=AliasChoices("NEXA_LOCAL_PARALLEL"))
    local_threads: int | None = Field(default=None, ge=1, le=64, validation_alias=AliasChoices("NEXA_LOCAL_THREADS"))
    # Minutes without lookups or requests after which the shared local model server stops itself; 0 = never.
    local_idle_minutes: float = Field(default=10.0, ge=0, validation_alias=AliasChoices("NEXA_LOCAL_IDLE_MINUTES"))
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
    # How long a finished thread's checkpoints, run records and caches are kept (nexa_research/retention.py).
    retention_days: float = Field(default=30.0, validation_alias=AliasChoices("NEXA_RETENTION_DAYS"))

    @field_validator("checkpointer", mode="before")
    @classmethod
    def _older_checkpointer_name(cls, value: object) -> object:
        return "in_memory" if value == "memory" else value

    @field_validator("retention_days", mode="before")
    @classmethod
    def _retention_days(cls, value: object) -> float:
        try:
            days = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            days = float("nan")
        if not 0 <= days <= MAX_RETENTION_DAYS:  # NaN fails too
            raise ValueError(
                f"NEXA_RETENTION_DAYS must be a number of days from 0 to {MAX_RETENTION_DAYS:g} "
                f"(0 keeps finished threads forever; 0.5 is 12 hours), not {value!r}"
            )
        return days

    @classmethod
    def load(cls) -> ProviderSettings:
        """The settings from the environment; a bad value is a `ResearchInputError` naming its variable."""
        try:
            return cls()
        except ValidationError as exc:
            raise ResearchInputError(f"invalid setting: {_describe(cls, exc)}") from exc

    @property
    def retention_seconds(self) -> float:
        """`retention_days` in seconds; 0 means keep forever."""
        return self.retention_days * 86_400

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()


def _describe(cls: type[BaseSettings], exc: ValidationError) -> str:
    """Each error under the environment variable a user sets, not the field name they never see."""
    parts = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        alias = getattr(cls.model_fields.get(name), "validation_alias", None)
        variable = alias.choices[0] if isinstance(alias, AliasChoices) else name
        message = err["msg"].removeprefix("Value error, ")
        parts.append(message if message.startswith(str(variable)) else f"{variable}: {message}")
    return "; ".join(parts)
