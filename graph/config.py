"""Per-run research settings: one pydantic model whose fields show up as knobs in Studio, LangServe and the CLI.

Precedence is per-run (library call, LangServe request, Studio) > environment (NEXA_*) > defaults. The
environment never overrides what a caller asked for. Secrets are never fields here: a role names the
environment variable that holds its key (`api_key_env`), because primitive per-run values are copied into
checkpoint metadata.

Per-run values arrive two ways: as LangGraph's run context (`context=` from the library, Studio and the
LangGraph SDK; a node reads it from its `Runtime`) and as `configurable` (LangServe validates and passes knobs
only there). `ResearchConfig.from_runnable_config` is the one function that turns them into a `ResearchConfig`;
a run whose owner passes a resolved `ResearchConfig` as context is not resolved again, and the same per-run
values under the same environment resolve once per process (configs are frozen, so sharing one is safe).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from langgraph.runtime import get_runtime
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nexa_research.errors import ResearchInputError

Role = Literal["planner", "query_writer", "reflection", "synthesizer", "collator"]
ROLES: tuple[Role, ...] = ("planner", "query_writer", "reflection", "synthesizer", "collator")

# Seed figures from the design: temperature and output budget per role.
ROLE_DEFAULTS: dict[str, dict[str, Any]] = {
    "planner": {"temperature": 0.6, "max_tokens": 2000},
    "query_writer": {"temperature": 0.4, "max_tokens": 300},
    "reflection": {"temperature": 0.3, "max_tokens": 800},
    "synthesizer": {"temperature": 0.2, "max_tokens": 1500},
    "collator": {"temperature": 0.3, "max_tokens": 4000},
}


class FallbackModel(BaseModel):
    """A model tried when the role's primary model fails."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(description="Model name at the fallback endpoint.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL; None = the role's endpoint.")
    api_key_env: str | None = Field(default=None, description="Name of the environment variable holding the key.")


class RoleModel(BaseModel):
    """Model settings for one role (planner, query writer, reflection, synthesizer, collator)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(default=None, description="Model name; None = the selected provider's default.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL; None = provider selection.")
    api_key_env: str | None = Field(default=None, description="Environment variable holding this endpoint's key.")
    temperature: float = Field(default=0.3, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(default=1000, ge=16, le=32000, description="Output token budget for one call.")
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0, description="Penalises repeated tokens.")
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0, description="Penalises tokens already present.")
    timeout_seconds: float = Field(default=300.0, gt=0, le=3600, description="Per-request timeout.")
    fallbacks: list[FallbackModel] = Field(default_factory=list, description="Models tried in order when this fails.")


class RoleModels(BaseModel):
    """One `RoleModel` per role. A partial dict for a role is merged onto that role's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    planner: RoleModel = Field(default_factory=lambda: RoleModel(**ROLE_DEFAULTS["planner"]))
    query_writer: RoleModel = Field(default_factory=lambda: RoleModel(**ROLE_DEFAULTS["query_writer"]))
    reflection: RoleModel = Field(default_factory=lambda: RoleModel(**ROLE_DEFAULTS["reflection"]))
    synthesizer: RoleModel = Field(default_factory=lambda: RoleModel(**ROLE_DEFAULTS["synthesizer"]))
    collator: RoleModel = Field(default_factory=lambda: RoleModel(**ROLE_DEFAULTS["collator"]))

    @model_validator(mode="before")
    @classmethod
    def _merge_role_defaults(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        merged: dict[str, Any] = {}
        for role, value in data.items():
            if isinstance(value, Mapping) and role in ROLE_DEFAULTS:
                merged[role] = {**ROLE_DEFAULTS[role], **value}
            else:
                merged[role] = value
        return merged

    def for_role(self, role: str) -> RoleModel:
        if role not in ROLES:
            raise ResearchInputError(f"unknown model role {role!r}; roles are {', '.join(ROLES)}")
        return getattr(self, role)


class ResearchConfig(BaseSettings):
    """Everything a run can be told. Field names are the keys of `configurable` in a RunnableConfig."""

    model_config = SettingsConfigDict(env_prefix="NEXA_", env_nested_delimiter="__", extra="forbid", frozen=True)

    models: RoleModels = Field(default_factory=RoleModels, description="Model settings per role.")
    search_backend: str = Field(
        default="auto",
        description="Search backend: 'auto' (Exa when EXA_API_KEY is set, else the local knowledge base), "
        "'kb' (the local knowledge base; 'qdrant' is its older name), 'exa', 'mcp:<server>' (a search tool of an MCP "
        "server named in NEXA_MCP_SERVERS), or any name registered with nexa_research.providers.register_search_backend.",
    )
    kb_collection: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]+$", max_length=120,
        description="Knowledge-base collection the 'kb' backend searches (see `nexa collections`); "
        "None = NEXA_KB_COLLECTION, default 'nexa_kb'.",
    )
    search_results: int = Field(default=5, ge=1, le=20, description="Results fetched per search query.")
    min_sections: int = Field(default=3, ge=3, le=7, description="Fewest sections the planner may produce.")
    max_sections: int = Field(default=7, ge=3, le=7, description="Most sections the planner may produce.")
    max_iterations: int = Field(default=3, ge=1, le=3, description="Query-search-reflect rounds per section (hard cap).")
    language: str = Field(default="English", min_length=2, max_length=40, description="Language the report is written in.")
    review_plan: bool = Field(default=False, description="Pause after planning so a person can approve or edit the plan.")
    context_token_budget: int = Field(
        default=4000, ge=512, le=128000, description="Token budget for the sources put into one model prompt."
    )
    plan_attempts: int = Field(default=3, ge=1, le=5, description="Planner tries before a plan out of bounds is an error.")
    provider_retries: int = Field(
        default=2, ge=0, le=5,
        description="Retries of a model or search call that failed transiently (timeout, lost connection, 429, 5xx), "
        "before the role's next model is tried.",
    )
    use_cache: bool = Field(default=True, description="Serve repeated searches and reports from the Redis cache.")
    report_cache_ttl_seconds: int = Field(
        default=24 * 3600, ge=60, le=30 * 24 * 3600, description="How long a finished report is served from cache."
    )
    min_relevance: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Similarity a passage needs to both the topic and its section to enter the report; "
        "None = the relevance scorer's calibrated threshold.",
    )
    writing: Literal["extractive", "abstractive"] = Field(
        default="extractive",
        description="'extractive': sections are built from the most relevant source sentences, the model writes "
        "only the connecting lead (best for small local models); 'abstractive': the model writes each section.",
    )
    use_memory: bool = Field(default=True, description="Search what earlier runs gathered, and remember this run's sources.")
    retry_wait_seconds: float = Field(default=0.5, ge=0, le=30, description="First wait between retries (doubles each time).")

    @model_validator(mode="after")
    def _check_section_bounds(self) -> ResearchConfig:
        if self.min_sections > self.max_sections:
            raise ValueError(f"min_sections ({self.min_sections}) is greater than max_sections ({self.max_sections})")
        return self

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(cls.model_fields)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ResearchConfig:
        """Build from per-run values (they win over the environment); a bad value is a `ResearchInputError`."""
        try:
            return cls(**dict(values))
        except ValidationError as exc:
            raise ResearchInputError(f"invalid research config: {_describe(exc)}") from exc

    @classmethod
    def from_runnable_config(cls, config: Mapping[str, Any] | None = None, context: Any = None) -> ResearchConfig:
        """The run's config from a RunnableConfig's `configurable` and the run context (`Runtime.context`).

        Unrelated keys (thread_id, checkpoint ids, LangServe internals) are ignored; context wins over
        configurable. A `ResearchConfig` given as context is the run's resolved config and is returned as is.
        Without `context`, inside a graph run the run's context is read with LangGraph's `get_runtime()`.
        """
        if context is None:
            context = _current_run_context()
        if isinstance(context, ResearchConfig):
            return context
        names = cls.field_names()
        configurable = (config or {}).get("configurable") or {}
        values = {k: v for k, v in _as_mapping(configurable).items() if k in names and v is not None}
        values.update({k: v for k, v in _as_mapping(context).items() if k in names and v is not None})
        return cls.resolve(values)

    @classmethod
    def resolve(cls, values: Mapping[str, Any]) -> ResearchConfig:
        """`from_values`, resolved once per process for the same values under the same NEXA_* environment.

        Why: building a `ResearchConfig` reads and parses the environment (pydantic-settings), about 3 ms, and a
        run resolves its config in every node, the API for every request it checks. A change to the environment
        (a test's `monkeypatch.setenv`) is part of the key, so it resolves afresh.
        """
        try:
            key = json.dumps(values, sort_keys=True, default=_json_value)
        except (TypeError, ValueError):  # a value JSON cannot hold: resolve without the cache
            return cls.from_values(values)
        return _resolved(key, _environment())

    def fingerprint(self) -> str:
        """Hash of every setting that shapes a report: the cache key of a finished report, with the topic."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:32]

    def as_configurable(self) -> dict[str, Any]:
        """The values a caller set explicitly, as `configurable` entries (JSON-safe, no secrets)."""
        return self.model_dump(mode="json", exclude_unset=True)


@lru_cache(maxsize=128)
def _resolved(values_json: str, environment: tuple[tuple[str, str], ...]) -> ResearchConfig:
    """Per-run values (as canonical JSON) resolved under an environment; `environment` is only the cache key."""
    del environment
    return ResearchConfig.from_values(json.loads(values_json))


def _current_run_context() -> Any:
    """The running graph's context (None outside a graph run, or when the run was given none)."""
    try:
        runtime = get_runtime()
    except RuntimeError:  # not called from inside a runnable
        return None
    return getattr(runtime, "context", None)


def _environment() -> tuple[tuple[str, str], ...]:
    """The NEXA_* variables (any case, as pydantic-settings matches them), which `ResearchConfig` reads: a change to
    them resolves afresh. Only their values are looked up: decoding every variable's value cost more than the rest
    of a cached resolve."""
    environ = os.environ
    return tuple(sorted((k, environ[k]) for k in environ if k[:5].upper() == "NEXA_"))


def _json_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _as_mapping(value: Any) -> Mapping[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    return value if isinstance(value, Mapping) else {}


def _constrained(annotation: Any, metadata: list[Any]) -> Any:
    return Annotated[(annotation, *metadata)] if metadata else annotation


def _knobs_model() -> type[BaseModel]:
    """`ResearchConfig`'s fields, all optional: the graph's context schema.

    LangServe validates each request's `configurable` with it and Studio draws its form from it; a field left
    empty (None) falls through to the environment and the defaults.
    """
    fields: dict[str, Any] = {
        name: (_constrained(info.annotation, info.metadata) | None, Field(default=None, description=info.description))
        for name, info in ResearchConfig.model_fields.items()
    }
    return create_model("ResearchKnobs", __config__=ConfigDict(extra="allow"), **fields)


if TYPE_CHECKING:  # built from ResearchConfig's fields at import; to a type checker, a model like any other

    class ResearchKnobs(BaseModel):
        pass

else:
    ResearchKnobs = _knobs_model()


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "config"
        parts.append(f"{field}: {err['msg']}")
    return "; ".join(parts)
