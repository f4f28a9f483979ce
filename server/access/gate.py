"""The gate in front of every route: an API key, then the per-key and per-IP request rate limits.

A pure ASGI middleware, so it covers everything the app serves, the LangServe routes and the OpenAPI docs
included; only `/ok`, `/health` and `/metrics` are open (`/metrics` takes its own bearer token when
NEXA_SERVER_METRICS_TOKEN is set). The key comes as `x-api-key` (what langgraph_sdk sends) or
`Authorization: Bearer`; it is checked against its record on every request, so a revoked key is refused at
once. The verified key is put on the request (`request.state.api_key`) for the routes' isolation and quotas.

Rate limits use the `limits` library (moving windows kept in the same Redis, so every API process counts
together): well kept, atomic in Redis, with the moving-window strategy we want; slowapi and fastapi-limiter wrap
the same idea in route decorators, which would miss the LangServe routes. A refusal is a 429 with Retry-After.
"""

from __future__ import annotations

import json
import time
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from nexa_research.server.access.api_keys import KeyStore
from nexa_research.server.access.settings import AccessSettings

OPEN_PATHS = frozenset({"/ok", "/health"})


class Gate:
    def __init__(self, app: ASGIApp, settings: AccessSettings) -> None:
        self.app = app
        self.settings = settings
        self._keys: KeyStore | None = None
        self._limiter: MovingWindowRateLimiter | None = None
        self.per_key = RateLimitItemPerMinute(settings.requests_per_minute_per_key)
        self.per_ip = RateLimitItemPerMinute(settings.requests_per_minute_per_ip)

    def _bind(self, scope: Scope) -> bool:
        """Find the app's key store and Redis (opened by its lifespan) on first use; False while not open."""
        if self._keys is None:
            context = getattr(getattr(scope.get("app"), "state", None), "server", None)
            if context is None:
                return False
            storage = RedisStorage(context.redis_url.replace("redis", "async+redis", 1), implementation="redispy",
                                   key_prefix="nexa:srv:limits", connection_pool=context.redis.connection_pool)
            self._limiter = MovingWindowRateLimiter(storage)
            self._keys = context.keys
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._gate(scope, receive, tracked)
        except RedisError as exc:  # Redis busy or gone: the caller may retry; a 500 would say the request was bad
            if started:
                raise
            await _deny(send, 503, f"the server's Redis is unavailable ({type(exc).__name__}); try again shortly",
                        [(b"retry-after", b"5")])

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers") or []}
        if scope["path"] == "/metrics":
            token = self.settings.metrics_token
            if token and headers.get("authorization") != f"Bearer {token}":
                await _deny(send, 401, "the metrics page needs its bearer token (NEXA_SERVER_METRICS_TOKEN)")
                return
            await self.app(scope, receive, send)
            return
        if not self.settings.auth_required:
            await self.app(scope, receive, send)
            return
        if not self._bind(scope) or self._keys is None or self._limiter is None:
            await _deny(send, 503, "the server is starting")
            return
        client_ip = (scope.get("client") or ("unknown", 0))[0]
        if not await self._limiter.hit(self.per_ip, "ip", client_ip):
            await _limited(send, await self._retry_after(self.per_ip, "ip", client_ip), "requests from this address")
            return
        presented = headers.get("x-api-key") or _bearer(headers.get("authorization", ""))
        key = await self._keys.verify(presented) if presented else None
        if key is None:
            await _deny(send, 401, "an API key is needed: send it as x-api-key or Authorization: Bearer "
                                   "(nexa keys create makes one)" if not presented else "the API key is not valid")
            return
        if not await self._limiter.hit(self.per_key, "key", key.key_id):
            await _limited(send, await self._retry_after(self.per_key, "key", key.key_id), "requests with this key")
            return
        scope.setdefault("state", {})["api_key"] = key
        await self.app(scope, receive, send)

    async def _retry_after(self, item: Any, *identifiers: str) -> int:
        assert self._limiter is not None
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return max(1, int(stats.reset_time - time.time()) + 1)


def _bearer(value: str) -> str | None:
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _deny(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": message, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="nexa-research"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _limited(send: Send, retry_after: int, what: str) -> None:
    await _deny(send, 429, f"too many {what}: try again in {retry_after} s",
                [(b"retry-after", str(retry_after).encode())])
