"""Errors of the LangGraph-style API: a status and a message, sent as JSON that langgraph_sdk turns into its
typed errors (it reads `message`, then `detail`). Nothing a caller sends may become a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} {ident!r} not found")


async def api_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse({"detail": exc.message, "message": exc.message}, status_code=exc.status, headers=exc.headers)


async def redis_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Redis busy (no free connection in time) or unreachable: a 503 the caller may retry, not a 500."""
    message = f"the server's Redis is unavailable ({type(exc).__name__}); try again shortly"
    return JSONResponse({"detail": message, "message": message}, status_code=503, headers={"Retry-After": "5"})


# The error responses each route may give, for the OpenAPI docs at /docs.
# The shape FastAPI takes for `responses=`; spelled out so `{**NOT_FOUND, **CONFLICT}` type-checks as one.
Responses = dict[int | str, dict[str, Any]]
ERROR_MODEL: dict[str, Any] = {"content": {"application/json": {"example": {"detail": "thread 'x' not found", "message": "..."}}}}
NOT_FOUND: Responses = {404: {"description": "Unknown assistant, thread or run", **ERROR_MODEL}}
CONFLICT: Responses = {409: {"description": "The thread is busy, or the run is not interrupted", **ERROR_MODEL}}
INVALID: Responses = {422: {"description": "Invalid input, knob or id: the message names the field", **ERROR_MODEL}}
TOO_LARGE: Responses = {413: {"description": "Request body over the limit", **ERROR_MODEL}}
UNAUTHORIZED: Responses = {401: {"description": "No API key, or not a valid one", **ERROR_MODEL}}
FORBIDDEN: Responses = {403: {"description": "A knob over the key's tier limit, or an endpoint knob not accepted", **ERROR_MODEL}}
LIMITED: Responses = {429: {"description": "Daily quota, concurrent runs or request rate exceeded (see Retry-After)", **ERROR_MODEL}}
