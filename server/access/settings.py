"""Access settings, from NEXA_SERVER_* environment variables (pydantic-settings).

`auth` is "required" by default: every route but /ok, /health and /metrics needs an API key. "off" is for a
server on a developer's own machine, reached only from 127.0.0.1; then nothing is isolated or counted per key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AccessSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEXA_SERVER_", extra="ignore")

    auth: Literal["required", "off"] = Field(default="required", description="Whether routes need an API key.")
    requests_per_minute_per_key: int = Field(default=600, ge=1, description="Request rate limit of one key.")
    requests_per_minute_per_ip: int = Field(default=1200, ge=1, description="Request rate limit of one address.")
    metrics_token: str | None = Field(default=None, description="Bearer token /metrics asks for (unset: open).")
    allow_endpoint_knobs: bool = Field(
        default=False, description="Accept model base_url / api_key_env knobs from API callers."
    )
    allow_private_endpoints: bool = Field(
        default=False, description="With endpoint knobs allowed, accept loopback and private addresses too."
    )

    @property
    def auth_required(self) -> bool:
        return self.auth == "required"
