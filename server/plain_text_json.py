"""JSON request bodies sent as `text/plain`, read as JSON on the LangGraph API routes.

LangGraph Studio posts some JSON bodies with `Content-Type: text/plain` (a browser sends such a body without a
CORS preflight). FastAPI parses only JSON content types as JSON and would answer 422, so this pure ASGI
middleware relabels a text/plain body on the API's routes as application/json before routing; a body that is
not JSON then fails as any bad JSON does (422 naming the body). The LangServe routes under /research and other
paths are left as sent.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIXES = ("/assistants", "/threads", "/runs", "/store")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PlainTextJson:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in BODY_METHODS and scope["path"].startswith(API_PREFIXES):
            headers = scope.get("headers") or []
            if any(name == b"content-type" and value.split(b";")[0].strip().lower() == b"text/plain"
                   for name, value in headers):
                relabelled = [(name, value) for name, value in headers if name != b"content-type"]
                scope = {**scope, "headers": [*relabelled, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)
