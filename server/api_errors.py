"""Errors of the LangGraph-style API: a status and a message, sent as JSON that langgraph_sdk turns into its
typed errors (it reads `message`, then `detail`). Nothing a caller sends may become a 500.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} {ident!r} not found")


async def api_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse({"detail": exc.message, "message": exc.message}, status_code=exc.status)


# The error responses each route may give, for the OpenAPI docs at /docs.
ERROR_MODEL = {"content": {"application/json": {"example": {"detail": "thread 'x' not found", "message": "..."}}}}
NOT_FOUND = {404: {"description": "Unknown assistant, thread or run", **ERROR_MODEL}}
CONFLICT = {409: {"description": "The thread is busy, or the run is not interrupted", **ERROR_MODEL}}
INVALID = {422: {"description": "Invalid input, knob or id: the message names the field", **ERROR_MODEL}}
TOO_LARGE = {413: {"description": "Request body over the limit", **ERROR_MODEL}}
