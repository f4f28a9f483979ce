"""Chat models per role: a primary model plus fallbacks, called for text or for schema-checked structured output.

Fallbacks are tried in order by hand rather than with `Runnable.with_fallbacks`, so that when every model fails the
error can name each endpoint with its own reason (LangChain re-raises only the first).

Every role is an OpenAI-compatible chat model (OpenAI, OpenRouter, llama.cpp, vLLM, Ollama) or, in tests, a
scripted fake. Structured output uses `with_structured_output(..., method="json_schema")`; a model that cannot
bind a schema (a fake, a plain completion server) is asked for JSON and parsed here, so nodes have one path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, ValidationError

from nexa_research.errors import ProviderError, StructuredOutputError
from nexa_research.providers.schema_repair import validate_or_repair

T = TypeVar("T", bound=BaseModel)

# Failures of the service behind a provider: retried, then the section is reported missing.
PROVIDER_FAILURES: tuple[type[BaseException], ...] = (
    ProviderError,
    openai.OpenAIError,
    httpx.HTTPError,
    TimeoutError,
    ConnectionError,
)

# Worth another try on the same endpoint; auth, bad-request and not-found errors are not (they go straight on
# to the next fallback).
TRANSIENT_FAILURES: tuple[type[BaseException], ...] = (
    StructuredOutputError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
    openai.LengthFinishReasonError,
    httpx.HTTPError,
    TimeoutError,
    ConnectionError,
)

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


@dataclass
class StructuredAnswer:
    parsed: Any
    message: AIMessage | None
    model: str


def parse_json_answer(text: str, schema: type[T]) -> T:
    """Parse a model's JSON answer (optionally fenced) into `schema`; a mismatch is a `StructuredOutputError`."""
    body = _FENCE.sub("", text.strip()).strip()
    start, end = body.find("{"), body.rfind("}")
    if start == -1 or end == -1:
        raise StructuredOutputError(f"expected a JSON object for {schema.__name__}, got: {text[:200]!r}")
    try:
        data = json.loads(body[start : end + 1])
    except json.JSONDecodeError as exc:
        raise StructuredOutputError(f"answer is not valid JSON for {schema.__name__}: {exc}") from exc
    return validate_or_repair(data, schema)


def _structured(model: BaseChatModel, schema: type[BaseModel]) -> Runnable:
    """One model -> a runnable returning {"raw", "parsed"}; raises `StructuredOutputError` on a bad answer.

    The schema is bound as a JSON-schema dict (same wire format, same name) rather than the pydantic class, so
    the SDK hands back the raw object and an answer over a bound is repaired here instead of rejected there.
    """
    try:
        bound: Runnable = model.with_structured_output(
            schema.model_json_schema(), method="json_schema", include_raw=True
        )
    except NotImplementedError:

        def parse_text(message: AIMessage) -> dict[str, Any]:
            return {"raw": message, "parsed": parse_json_answer(str(message.content), schema), "parsing_error": None}

        bound = model | RunnableLambda(parse_text)

    def schema_error(exc: ValidationError) -> StructuredOutputError:
        return StructuredOutputError(f"answer does not match {schema.__name__}: {exc}")

    def call(messages: Any, config: Any = None) -> Any:
        try:
            return bound.invoke(messages, config)
        except ValidationError as exc:  # the openai SDK validates json_schema answers itself
            raise schema_error(exc) from exc

    async def acall(messages: Any, config: Any = None) -> Any:
        try:
            return await bound.ainvoke(messages, config)
        except ValidationError as exc:
            raise schema_error(exc) from exc

    def check(result: dict[str, Any]) -> dict[str, Any]:
        if result.get("parsing_error") is not None or result.get("parsed") is None:
            raw = result.get("raw")
            content = getattr(raw, "content", "")
            raise StructuredOutputError(
                f"answer does not match {schema.__name__}: {result.get('parsing_error') or 'empty'}; got {str(content)[:200]!r}"
            )
        parsed = result["parsed"]
        if not isinstance(parsed, schema):
            parsed = validate_or_repair(parsed, schema)
        return {"raw": result.get("raw"), "parsed": parsed}

    return RunnableLambda(call, afunc=acall) | RunnableLambda(check)


def model_label(model: BaseChatModel) -> str:
    """`endpoint model` for metadata and error messages; fakes are named by their class."""
    name = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
    base = getattr(model, "openai_api_base", None)
    return f"{base} {name}" if base else str(name)


@dataclass
class RoleModelSet:
    """The models one role may use, in order: the primary, then its fallbacks."""

    role: str
    models: Sequence[BaseChatModel]
    attempts: int = 1
    retry_wait: float = 0.5
    labels: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError(f"role {self.role!r} has no model")
        self.labels = [model_label(m) for m in self.models]

    def _retried(self, runnable: Runnable) -> Runnable:
        return runnable.with_retry(
            retry_if_exception_type=TRANSIENT_FAILURES,
            stop_after_attempt=max(1, self.attempts),
            wait_exponential_jitter=self.retry_wait > 0,
            exponential_jitter_params={"initial": self.retry_wait, "max": 10.0} if self.retry_wait > 0 else None,
        )

    async def _first_answer(self, per_model: list[Runnable], messages: list[BaseMessage]) -> Any:
        """Each model in turn (retried while the failure is transient); every model's reason goes in the error."""
        reasons: list[str] = []
        last: BaseException | None = None
        for label, runnable in zip(self.labels, per_model, strict=True):
            try:
                return await self._retried(runnable).ainvoke(messages)
            except PROVIDER_FAILURES as exc:
                reasons.append(f"{label} -> {type(exc).__name__}: {exc}")
                last = exc
        raise ProviderError(
            f"role '{self.role}': every model failed (tried: {'; '.join(self.labels)}): {' | '.join(reasons)}",
            role=self.role,
            endpoint=self.labels[0],
        ) from last

    async def text(self, messages: list[BaseMessage]) -> AIMessage:
        return await self._first_answer(list(self.models), messages)

    async def structured(self, schema: type[T], messages: list[BaseMessage]) -> StructuredAnswer:
        """A schema-checked answer. When every try breaks the schema in a way code cannot repair, the models are
        asked once more with the reason, which small models often need to get it right."""
        per_model = [_structured(m, schema) for m in self.models]
        try:
            result = await self._first_answer(per_model, messages)
        except ProviderError as exc:
            if not isinstance(exc.__cause__, StructuredOutputError):
                raise
            reason = HumanMessage(
                f"Your answer was rejected: {str(exc.__cause__)[:600]}. Answer again with one JSON object that "
                "matches the schema exactly, within every length limit."
            )
            result = await self._first_answer(per_model, [*messages, reason])
        raw = result.get("raw")
        return StructuredAnswer(parsed=result["parsed"], message=raw if isinstance(raw, AIMessage) else None, model=answered_by(raw, self.labels[0]))


def answered_by(message: Any, default: str) -> str:
    """The model name the server reports for an answer, else `default` (the label of the primary model)."""
    meta = getattr(message, "response_metadata", None) or {}
    return str(meta.get("model_name") or default)
