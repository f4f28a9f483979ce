"""Route dependencies: the process's `ServerContext` (set on the app's state by its lifespan) and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nexa_research.server.access.admission import owner_of
from nexa_research.server.context import ServerContext


def server(request: Request) -> ServerContext:
    return request.app.state.server


def caller(request: Request) -> str | None:
    """The API key id of the request (None with auth off): what it owns is all it may see."""
    return owner_of(request)


Ctx = Annotated[ServerContext, Depends(server)]
Owner = Annotated[str | None, Depends(caller)]
