"""Which OpenAI-compatible endpoint a role talks to, chosen by configuration alone.

Order for a role without its own `base_url`: NEXA_LLM_BASE_URL (any OpenAI-compatible server), then
OPENROUTER_API_KEY, then OPENAI_API_KEY, then the embedded llama.cpp server this library starts itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from langchain_openai import ChatOpenAI

from nexa_research.config import FallbackModel, RoleModel
from nexa_research.errors import ResearchInputError
from nexa_research.providers.settings import ProviderSettings

OPENAI_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Endpoint:
    """A resolved endpoint: `kind` is openai, openrouter, custom or local."""

    kind: str
    base_url: str
    api_key: str
    default_model: str


def _key_from_env(var: str | None, role: str) -> str | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        raise ResearchInputError(f"models.{role}.api_key_env: environment variable {var} is not set")
    return value


def default_endpoint(settings: ProviderSettings) -> Endpoint:
    """The endpoint used by roles that do not name one."""
    if settings.llm_base_url:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        return Endpoint("custom", settings.llm_base_url, key, settings.llm_model or "default")
    if settings.openrouter_api_key:
        return Endpoint(
            "openrouter",
            settings.openrouter_base_url,
            settings.openrouter_api_key.get_secret_value(),
            settings.llm_model or settings.openrouter_model,
        )
    if settings.openai_api_key:
        return Endpoint(
            "openai", OPENAI_BASE_URL, settings.openai_api_key.get_secret_value(), settings.llm_model or settings.openai_model
        )
    from nexa_research.providers.local_llm import local_endpoint

    return local_endpoint(settings)


def resolve_endpoint(role: str, base_url: str | None, api_key_env: str | None, settings: ProviderSettings) -> Endpoint:
    """A role's own base_url wins; otherwise the default endpoint for this deployment."""
    if base_url:
        key = _key_from_env(api_key_env, role) or "not-needed"
        return Endpoint("custom", base_url, key, settings.llm_model or "default")
    endpoint = default_endpoint(settings)
    key = _key_from_env(api_key_env, role)
    return Endpoint(endpoint.kind, endpoint.base_url, key, endpoint.default_model) if key else endpoint


def build_chat_model(role: str, settings: RoleModel, endpoint: Endpoint, model: str | None = None) -> ChatOpenAI:
    """A ChatOpenAI for one role at one endpoint, with the role's sampling settings."""
    extra_body = None
    if endpoint.kind == "local":
        from nexa_research.providers.local_llm import local_sampling_extras

        extra_body = local_sampling_extras(role)
    return ChatOpenAI(
        model=model or settings.model or endpoint.default_model,
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        frequency_penalty=settings.frequency_penalty,
        presence_penalty=settings.presence_penalty,
        timeout=settings.timeout_seconds,
        max_retries=settings.max_retries,
        extra_body=extra_body,
    )


def build_role_models(role: str, settings: RoleModel, provider_settings: ProviderSettings) -> list[ChatOpenAI]:
    """The primary model and each configured fallback, in order."""
    primary = resolve_endpoint(role, settings.base_url, settings.api_key_env, provider_settings)
    models = [build_chat_model(role, settings, primary)]
    for fb in settings.fallbacks:
        models.append(_fallback_model(role, settings, fb, provider_settings))
    return models


def _fallback_model(role: str, settings: RoleModel, fb: FallbackModel, provider_settings: ProviderSettings) -> ChatOpenAI:
    endpoint = resolve_endpoint(role, fb.base_url or settings.base_url, fb.api_key_env or settings.api_key_env, provider_settings)
    return build_chat_model(role, settings, endpoint, model=fb.model)
