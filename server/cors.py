"""Cross-origin access for browser clients: LangGraph Studio (served from https://smith.langchain.com) and web
front ends call the API from another origin, so the browser asks first (a CORS preflight) and reads an answer
only if it names the caller's origin.

Origins come from NEXA_SERVER_CORS_ORIGINS (comma-separated; "*" allows any; empty turns CORS off); the default
allows Studio only. Preflights are answered before the API-key gate (a browser sends no key with them), and a
preflight asking for private-network access (Chrome, for a public page calling 127.0.0.1) is allowed. The
headers clients read are exposed: `Location`/`Content-Location` (stream reconnects), pagination, quota and
request-id headers.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.middleware.cors import CORSMiddleware

STUDIO_ORIGIN = "https://smith.langchain.com"
EXPOSED_HEADERS = ("location", "content-location", "x-pagination-next", "x-pagination-total", "x-request-id",
                   "x-quota-remaining", "x-quota-reset", "x-quota-warning", "retry-after")


class CorsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEXA_SERVER_CORS_", extra="ignore")

    origins: str = Field(default=STUDIO_ORIGIN, description="Origins allowed to call the API from a browser.")

    @property
    def origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.origins.split(",") if o.strip()]


def add_cors(app: FastAPI, settings: CorsSettings | None = None) -> None:
    """Answer CORS for the configured origins; call it after the gate is added, so it runs outside it."""
    origins = (settings or CorsSettings()).origin_list
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware, allow_origins=origins, allow_methods=["*"], allow_headers=["*"],
        allow_private_network=True, expose_headers=list(EXPOSED_HEADERS),
    )
