"""Route dependencies: the process's `ServerContext`, set on the app's state by its lifespan."""

from __future__ import annotations

from fastapi import Request

from nexa_research.server.context import ServerContext


def server(request: Request) -> ServerContext:
    return request.app.state.server
