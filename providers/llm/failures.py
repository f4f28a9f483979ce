"""What a failed chat-model call means: the SDK's and HTTP clients' exceptions translated into `ProviderError`.

Nodes catch one error type. The openai SDK (through langchain-openai) raises its own family (timeouts,
connection errors, one class per HTTP status, finish-reason errors), the HTTP layer underneath may leak httpx or
httpx2 errors mid-stream, pydantic may reject a structured answer, and llama.cpp answers with its own error
types. Each becomes a `ProviderError` that names the role and model, says what went wrong, and says whether the
same endpoint is worth another try (the retry policy, providers/retry_policy.py, reads `transient`). A
structured answer that cannot be used is a `StructuredOutputError`, which the caller may re-ask with the reason.
Anything else raised during a call (a ValueError or KeyError from our own code) is not translated: it is a bug.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import httpx2
import openai
from pydantic import ValidationError

from nexa_research.errors import ProviderError, StructuredOutputError
from nexa_research.providers.llm.local_server import llama_error_hint

# Every exception type a model call may raise for a reason outside our code; `model_failure` translates them.
# json.JSONDecodeError: the SDK parses the body of a JSON answer without catching a malformed one.
MODEL_CALL_FAILURES: tuple[type[BaseException], ...] = (
    ProviderError,
    openai.OpenAIError,
    httpx.HTTPError,
    httpx2.HTTPError,
    ValidationError,
    json.JSONDecodeError,
    TimeoutError,
    ConnectionError,
)

_TIMEOUTS = (openai.APITimeoutError, httpx.TimeoutException, httpx2.TimeoutException, TimeoutError)
_NO_CONNECTION = (openai.APIConnectionError, httpx.TransportError, httpx2.TransportError, ConnectionError)


def model_failure(exc: BaseException, *, role: str, model: str) -> ProviderError:
    """`exc`, raised while calling `model` for `role`, as a `ProviderError` (the same object if it already is one)."""
    if isinstance(exc, ProviderError):
        exc.role = exc.role or role
        exc.model = exc.model or model
        exc.endpoint = exc.endpoint or model
        return exc
    where: dict[str, Any] = {"role": role, "model": model, "endpoint": model}
    if isinstance(exc, _TIMEOUTS):
        return ProviderError(f"{model}: timed out ({type(exc).__name__})", reason="timed out", transient=True, **where)
    if isinstance(exc, _NO_CONNECTION):
        reason = f"could not connect, or the connection broke ({type(exc).__name__}: {_cause_text(exc)})"
        return ProviderError(f"{model}: {reason}", reason=reason, transient=True, **where)
    if isinstance(exc, openai.APIStatusError):
        return _status_failure(exc, where)
    if isinstance(exc, httpx.HTTPStatusError | httpx2.HTTPStatusError):
        status = exc.response.status_code
        reason = f"HTTP {status} from the endpoint"
        return ProviderError(f"{model}: {reason}", reason=reason, status=status, **where)
    if isinstance(exc, openai.LengthFinishReasonError):
        reason = "the answer was cut off at max_tokens before it was complete"
        return StructuredOutputError(f"{model}: {reason}", reason=reason, **where)
    if isinstance(exc, ValidationError):
        reason = f"answer does not match the schema: {exc}"
        return StructuredOutputError(f"{model}: {reason}", reason=reason, **where)
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        reason = "the endpoint's content filter refused the answer"
        return ProviderError(f"{model}: {reason}", reason=reason, transient=False, **where)
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        reason = f"the endpoint's answer is not a valid chat completion ({type(exc).__name__}: {exc})"
        return ProviderError(f"{model}: {reason}", reason=reason, transient=False, **where)
    reason = f"{type(exc).__name__}: {exc}"
    return ProviderError(f"{model}: {reason}", reason=reason, transient=False, **where)


def _status_failure(exc: openai.APIStatusError, where: dict[str, Any]) -> ProviderError:
    """An HTTP error answer: its status and message, what to do about it, and the wait the server asked for."""
    status = exc.status_code
    body = exc.body if isinstance(exc.body, dict) else {}
    detail = body.get("message") or exc.message
    hint = llama_error_hint(body.get("type")) or _STATUS_HINTS.get(status, "")
    reason = f"HTTP {status}: {detail}" + (f" ({hint})" if hint else "")
    return ProviderError(
        f"{where['model']}: {reason}", reason=reason, status=status, retry_after=_retry_after(exc.response), **where
    )


_STATUS_HINTS = {
    401: "the key was rejected: check the endpoint's API key variable",
    403: "the key may not use this model",
    404: "no such model or path at this endpoint: check the model name and base URL",
    429: "rate limited",
}


def _retry_after(response: httpx2.Response | httpx.Response) -> float | None:
    """Seconds the server asked to wait (`retry-after-ms`, else `retry-after` in seconds), if it said."""
    headers = response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / scale
        except ValueError:
            continue  # an HTTP date: rare for APIs; the policy's own backoff applies
    return None


def _cause_text(exc: BaseException) -> str:
    """The SDK says only "Connection error."; the transport error beneath it says which."""
    cause = exc.__cause__ or exc.__context__
    text = str(exc)
    return f"{text} {type(cause).__name__}: {cause}" if cause is not None and str(cause) not in text else text
