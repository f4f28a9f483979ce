"""Knobs that point the server somewhere (a model's base_url, the environment variable holding its key) are not
taken from API callers unless the operator allows them.

Otherwise a caller could aim the server's model calls at an internal address (SSRF), or at their own server
together with `api_key_env` naming one of the server's secrets, which the server would then send there. With
NEXA_SERVER_ALLOW_ENDPOINT_KNOBS=true a base_url is accepted only if every address its host resolves to is
public (not loopback, private, link-local, multicast or reserved), unless NEXA_SERVER_ALLOW_PRIVATE_ENDPOINTS.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlparse

from nexa_research.server.access.settings import AccessSettings


class EndpointKnobError(Exception):
    """A refused endpoint knob; the message names the field."""


def _endpoints(knobs: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(field path, kind, value) of every endpoint knob: base_url and api_key_env, fallbacks included."""
    found: list[tuple[str, str, Any]] = []
    models = knobs.get("models") or {}
    if not isinstance(models, dict):
        return found
    for role, settings in models.items():
        if not isinstance(settings, dict):
            continue
        for name in ("base_url", "api_key_env"):
            if settings.get(name) is not None:
                found.append((f"models.{role}.{name}", name, settings[name]))
        for i, fallback in enumerate(settings.get("fallbacks") or []):
            for name in ("base_url", "api_key_env"):
                if isinstance(fallback, dict) and fallback.get(name) is not None:
                    found.append((f"models.{role}.fallbacks[{i}].{name}", name, fallback[name]))
    return found


def check_endpoint_knobs(knobs: dict[str, Any], settings: AccessSettings) -> None:
    for field, kind, value in _endpoints(knobs):
        if not settings.allow_endpoint_knobs:
            raise EndpointKnobError(f"{field}: endpoint knobs are not accepted from API callers on this server "
                                    "(the operator allows them with NEXA_SERVER_ALLOW_ENDPOINT_KNOBS)")
        if kind == "base_url" and not settings.allow_private_endpoints:
            _check_public(field, str(value))


def _check_public(field: str, url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise EndpointKnobError(f"{field}: {url!r} is not an http(s) URL")
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise EndpointKnobError(f"{field}: cannot resolve {parsed.hostname!r}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise EndpointKnobError(f"{field}: {parsed.hostname} is a loopback or private address ({address}); "
                                    "the server does not call those for API callers")
