"""HTTP metrics of one API process: requests by method, route template and status, and their latency.

A pure ASGI middleware rather than a `BaseHTTPMiddleware` or a route decorator: it sees every response the app
sends (LangServe's routes, the docs, refusals of middlewares inside it) and does not buffer streaming bodies.
Latency runs until the app has sent the last byte of the body, so an SSE stream counts for its whole life.

Labels carry the route template (`/threads/{thread_id}/runs`), never the path: ids in labels would make a new
series per thread and run. The router leaves the matched route in `scope["route"]`; a request refused before
routing (an API key gate, a rate limit, a body limit) is matched against the app's routes here, and a path no
route knows is "unmatched".
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# From a /ok probe (milliseconds) to a stream that follows a whole run (many minutes).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, float("inf"))

_instruments: weakref.WeakKeyDictionary[CollectorRegistry, tuple[Counter, Histogram]] = weakref.WeakKeyDictionary()


def _instruments_in(registry: CollectorRegistry) -> tuple[Counter, Histogram]:
    """One pair per registry: Starlette may build its middleware stack more than once, and a registry refuses
    a second metric of the same name."""
    if registry not in _instruments:
        requests = Counter("nexa_http_requests", "HTTP requests by method, route template and status.",
                           ["method", "route", "status"], registry=registry)
        seconds = Histogram("nexa_http_request_seconds", "HTTP request time until the last body byte was sent.",
                            ["method", "route"], buckets=LATENCY_BUCKETS, registry=registry)
        _instruments[registry] = (requests, seconds)
    return _instruments[registry]


class HttpMetrics:
    """`app.add_middleware(HttpMetrics, registry=registry)`; add it last so it is outermost and times everything."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests, self.seconds = _instruments_in(registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        served_by = scope.get("app")  # the Starlette app, before a mount replaces it in the scope
        status = 500  # what the client gets when the app raises before starting a response

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_template(scope, served_by)
            self.requests.labels(method, route, str(status)).inc()
            self.seconds.labels(method, route).observe(time.perf_counter() - started)


def route_template(scope: Scope, app: Any) -> str:
    """The template of the route that served (or would have served) the request."""
    route = scope.get("route")
    path = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
    if path is not None:
        return _mount_prefix(scope) + path
    routes = getattr(getattr(app, "router", None), "routes", None) or []
    partial = None
    for candidate in routes:
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return _template_of(candidate)
        if match is Match.PARTIAL and partial is None:
            partial = candidate
    return _template_of(partial) if partial is not None else UNMATCHED


def _mount_prefix(scope: Scope) -> str:
    """Inside a mount the route's path is relative; the mount adds its prefix to `root_path` and keeps the
    app's own root path in `app_root_path`."""
    app_root = scope.get("app_root_path")
    root = scope.get("root_path", "")
    if app_root is None or not root.startswith(app_root):
        return ""
    return root[len(app_root):]


def _template_of(route: BaseRoute) -> str:
    path = getattr(route, "path", None)
    if path is None:
        return UNMATCHED
    return f"{path}/{{path:path}}" if isinstance(route, Mount) else path
