"""Which OpenAI-compatible endpoint a role talks to, chosen by configuration alone.

Order for a role without its own `base_url`: NEXA_LLM_BASE_URL (any OpenAI-compatible server), then
OPENROUTER_API_KEY, then OPENAI_API_KEY, then the embedded llama.cpp server this library starts itself.
A role's own `base_url` (per-run config) wins over all of these for that role only.

A key named by `api_key_env` goes only to the endpoint it was configured for: a fallback at another base URL
does not inherit the primary's key, because that would hand one provider's secret to a different host.

Resolving (`role_targets`) is kept apart from building (`build_chat_model`): the resolved targets are what a
built model depends on, so providers cache built models under them, and report metadata names them without
building anything. Clients are built with `max_retries=0`: retries are the retry policy's alone
(providers/retry_policy.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from nexa_research.config import ROLE_DEFAULTS, ROLES, FallbackModel, RoleModel, RoleModels
from nexa_research.errors import ResearchInputError
from nexa_research.providers.settings import ProviderSettings

OPENAI_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # the SDK refuses an empty key; servers without auth ignore this one


@dataclass(frozen=True)
class Endpoint:
    """A resolved endpoint: `kind` is openai, openrouter, custom or local."""

    kind: str
    base_url: str
    api_key: str = field(repr=False)
    default_model: str


@dataclass(frozen=True)
class ModelTarget:
    """One model a role may call: the endpoint and the model name there. Hashable: a cache key."""

    endpoint: Endpoint
    model: str

    @property
    def label(self) -> str:
        """`<base url> <model>`: how metadata and errors name the model (as `chat_models.model_label` does)."""
        return f"{self.endpoint.base_url} {self.model}"


def _checked_url(url: str, where: str) -> str:
    """Reject a base URL the HTTP client cannot use, naming the setting, instead of a vague connection error later."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ResearchInputError(f"{where}: {url!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:8080/v1")
    return url.strip()


def _key_from_env(var: str | None, where: str) -> str | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        raise ResearchInputError(f"{where}: environment variable {var} is not set")
    return value


def default_endpoint(settings: ProviderSettings) -> Endpoint:
    """The endpoint used by roles that do not name one."""
    if settings.llm_base_url:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else NO_KEY
        url = _checked_url(settings.llm_base_url, "NEXA_LLM_BASE_URL")
        return Endpoint("custom", url, key, settings.llm_model or "default")
    if settings.openrouter_api_key:
        return Endpoint(
            "openrouter",
            _checked_url(settings.openrouter_base_url, "NEXA_OPENROUTER_BASE_URL"),
            settings.openrouter_api_key.get_secret_value(),
            settings.llm_model or settings.openrouter_model,
        )
    if settings.openai_api_key:
        return Endpoint(
            "openai", OPENAI_BASE_URL, settings.openai_api_key.get_secret_value(), settings.llm_model or settings.openai_model
        )
    from nexa_research.providers.llm.local_server import local_endpoint

    return local_endpoint(settings)


def resolve_endpoint(
    role: str, base_url: str | None, api_key_env: str | None, settings: ProviderSettings, *, field: str | None = None
) -> Endpoint:
    """A role's own base_url wins; otherwise the default endpoint for this deployment.

    `field` is where the values came from in the per-run config (default `models.<role>`), for error messages.
    """
    where = field or f"models.{role}"
    if base_url:
        url = _checked_url(base_url, f"{where}.base_url")
        key = _key_from_env(api_key_env, f"{where}.api_key_env") or NO_KEY
        return Endpoint("custom", url, key, settings.llm_model or "default")
    env_key = _key_from_env(api_key_env, f"{where}.api_key_env")
    endpoint = default_endpoint(settings)
    return Endpoint(endpoint.kind, endpoint.base_url, env_key, endpoint.default_model) if env_key else endpoint


def build_chat_model(
    role: str, settings: RoleModel, endpoint: Endpoint, model: str | None = None, http_async_client: Any = None
) -> ChatOpenAI:
    """A ChatOpenAI for one role at one endpoint, with the role's sampling settings.

    `http_async_client`: the connection pool to use (one per event loop and endpoint, see
    providers/llm/loop_models.py); None lets langchain-openai pick its process-wide default.
    `stream_usage` is on because LangChain switches a model to streaming whenever a caller streams events
    (LangServe's stream_events, Studio's message stream); without it a streamed run records no token usage.
    """
    extra_body = None
    headers = None
    max_tokens = settings.max_tokens
    if endpoint.kind == "local":
        from nexa_research.providers.llm.local_server import (
            LOCAL_HTTP_HEADERS,
            local_output_budget,
            local_sampling_extras,
        )

        extra_body = local_sampling_extras(role)
        headers = dict(LOCAL_HTTP_HEADERS)
        if max_tokens == ROLE_DEFAULTS[role]["max_tokens"]:  # still the design default: use the measured budget
            max_tokens = local_output_budget(role, max_tokens)
    return ChatOpenAI(
        model=model or settings.model or endpoint.default_model,
        base_url=endpoint.base_url,
        api_key=SecretStr(endpoint.api_key),
        temperature=settings.temperature,
        max_completion_tokens=max_tokens,  # the field `max_tokens`, by its alias
        frequency_penalty=settings.frequency_penalty,
        presence_penalty=settings.presence_penalty,
        timeout=settings.timeout_seconds,
        max_retries=0,
        stream_usage=True,
        extra_body=extra_body,
        default_headers=headers,
        http_async_client=http_async_client,
    )


def role_targets(role: str, settings: RoleModel, provider_settings: ProviderSettings) -> list[ModelTarget]:
    """The primary target and each configured fallback, in order (resolving may start the embedded server)."""
    primary = resolve_endpoint(role, settings.base_url, settings.api_key_env, provider_settings)
    targets = [ModelTarget(primary, settings.model or primary.default_model)]
    for i, fb in enumerate(settings.fallbacks):
        targets.append(_fallback_target(role, i, settings, fb, provider_settings))
    return targets


def build_role_models(role: str, settings: RoleModel, provider_settings: ProviderSettings) -> list[ChatOpenAI]:
    """The primary model and each configured fallback, in order, on langchain-openai's default connections."""
    return [build_chat_model(role, settings, t.endpoint, t.model) for t in role_targets(role, settings, provider_settings)]


def _fallback_target(
    role: str, index: int, settings: RoleModel, fb: FallbackModel, provider_settings: ProviderSettings
) -> ModelTarget:
    """A fallback without its own base_url shares the role's endpoint and key; one with its own URL gets only its own key."""
    own = f"models.{role}.fallbacks[{index}]"
    if fb.base_url:
        _checked_url(fb.base_url, f"{own}.base_url")
    same_endpoint = not fb.base_url or fb.base_url == settings.base_url
    key_env = fb.api_key_env or (settings.api_key_env if same_endpoint else None)
    where = own if fb.api_key_env else f"models.{role}"
    endpoint = resolve_endpoint(role, fb.base_url or settings.base_url, key_env, provider_settings, field=where)
    return ModelTarget(endpoint, fb.model)


def check_role_settings(models: RoleModels) -> None:
    """Every role's base URLs and key variables, checked before a run starts (no endpoint is contacted)."""
    for role in ROLES:
        settings = models.for_role(role)
        where = f"models.{role}"
        if settings.base_url:
            _checked_url(settings.base_url, f"{where}.base_url")
        _key_from_env(settings.api_key_env, f"{where}.api_key_env")
        for i, fb in enumerate(settings.fallbacks):
            if fb.base_url:
                _checked_url(fb.base_url, f"{where}.fallbacks[{i}].base_url")
            _key_from_env(fb.api_key_env, f"{where}.fallbacks[{i}].api_key_env")
