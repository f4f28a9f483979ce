"""Chat models per role: a primary model plus fallbacks, called for text or for schema-checked structured output.

Each model is called under the one retry policy (providers/retry_policy.py): transient failures are retried on
the same model, then the next model of the role is tried. Fallbacks are tried in order by hand rather than
with `Runnable.with_fallbacks`, so that when every model fails the error can name each endpoint with its own
reason (LangChain re-raises only the first). Whatever a call raises for a reason outside our code is translated
into `ProviderError` (providers/llm/failures.py), the one type nodes catch.

Every role is an OpenAI-compatible chat model (OpenAI, OpenRouter, llama.cpp, vLLM, Ollama) or, in tests, a
scripted fake. Structured output uses `with_structured_output(..., method="json_schema")`; a model that cannot
bind a schema (a fake, a plain completion server) is asked for JSON and parsed here, so nodes have one path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel

from nexa_research.errors import ProviderError, StructuredOutputError
from nexa_research.providers.llm.failures import MODEL_CALL_FAILURES, model_failure
from nexa_research.providers.llm.schema_repair import validate_or_repair
from nexa_research.providers.retry_policy import RetryPolicy

T = TypeVar("T", bound=BaseModel)

# What nodes catch where a provider failure degrades the result, as a tuple for `except` clauses that
# predate the single type. Kept for nodes/search.py until it catches `ProviderError` itself.
PROVIDER_FAILURES: tuple[type[BaseException], ...] = (ProviderError,)

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


@cache
def json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """`schema`'s JSON schema, computed once per class: pydantic walks the whole model for it (most of what
    building a structured call cost), and the answer never changes. Schema classes live as long as the process
    (nodes define them, or cache the ones they make: nodes/planner.py `plan_schema`); binding reads the dict and
    leaves it unchanged (tests/unit/providers/llm/test_chat_models.py)."""
    return schema.model_json_schema()


def _structured(model: BaseChatModel, schema: type[BaseModel]) -> Runnable:
    """One model -> a runnable returning {"raw", "parsed"}; raises `StructuredOutputError` on a bad answer.

    The schema is bound as a JSON-schema dict (same wire format, same name) rather than the pydantic class, so
    the SDK hands back the raw object and an answer over a bound is repaired here instead of rejected there.
    A pydantic error the SDK raises itself is translated with the other call failures (providers/llm/failures.py).
    """
    try:
        bound: Runnable = model.with_structured_output(json_schema(schema), method="json_schema", include_raw=True)
    except NotImplementedError:

        def parse_text(message: AIMessage) -> dict[str, Any]:
            return {"raw": message, "parsed": parse_json_answer(str(message.content), schema), "parsing_error": None}

        bound = model | _inline(parse_text)

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

    return bound | _inline(check)


def _inline(step: Callable[[Any], Any]) -> Runnable:
    """A `RunnableLambda` of a quick step, run on the event loop: given only a plain function, `ainvoke` hands each
    call to a thread of the default executor (a submit, a thread switch and a wake-up per structured call, most
    of what the step cost in a worker's profile). The name, and so the events, are the function's as before."""

    async def on_loop(value: Any) -> Any:
        return step(value)

    return RunnableLambda(step, afunc=on_loop)


def model_label(model: BaseChatModel) -> str:
    """`endpoint model` for metadata and error messages; fakes are named by their class."""
    name = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
    base = getattr(model, "openai_api_base", None)
    return f"{base} {name}" if base else str(name)


@dataclass
class RoleModelSet:
    """The models one role may use, in order: the primary, then its fallbacks; each tried under `policy`."""

    role: str
    models: Sequence[BaseChatModel]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    labels: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError(f"role {self.role!r} has no model")
        self.labels = [model_label(m) for m in self.models]

    async def _call(self, runnable: Runnable, messages: list[BaseMessage], label: str) -> Any:
        try:
            return await runnable.ainvoke(messages)
        except MODEL_CALL_FAILURES as exc:
            failure = model_failure(exc, role=self.role, model=label)
            if failure is exc:
                raise
            raise failure from exc

    async def _first_answer(self, per_model: list[Runnable], messages: list[BaseMessage]) -> Any:
        """Each model in turn under the retry policy; when all fail, one error names every model and its reason.

        The error is a `StructuredOutputError` when the last model answered but broke the schema (the caller may
        ask again with the reason), else a `ProviderError`; either way not transient (retries are spent).
        """
        failures: list[ProviderError] = []
        for label, runnable in zip(self.labels, per_model, strict=True):
            try:
                return await self.policy.run(partial(self._call, runnable, messages, label))
            except ProviderError as exc:
                failures.append(exc)
        last = failures[-1]
        kind = StructuredOutputError if isinstance(last, StructuredOutputError) else ProviderError
        reasons = " | ".join(f"{label} -> {type(exc).__name__}: {exc.reason}" for label, exc in zip(self.labels, failures, strict=True))
        raise kind(
            f"role '{self.role}': every model failed (tried: {'; '.join(self.labels)}): {reasons}",
            role=self.role,
            endpoint=self.labels[0],
            model=last.model,
            reason=last.reason,
            status=last.status,
            transient=False,
        ) from last

    async def text(self, messages: list[BaseMessage]) -> AIMessage:
        return await self._first_answer(list(self.models), messages)

    async def structured(self, schema: type[T], messages: list[BaseMessage]) -> StructuredAnswer:
        """A schema-checked answer. When the answers break the schema in a way code cannot repair, the models are
        asked once more with the reason, which small models often need to get it right."""
        per_model = [_structured(m, schema) for m in self.models]
        try:
            result = await self._first_answer(per_model, messages)
        except StructuredOutputError as exc:
            reason = HumanMessage(
                f"Your answer was rejected: {exc.reason[:600]}. Answer again with one JSON object that "
                "matches the schema exactly, within every length limit."
            )
            result = await self._first_answer(per_model, [*messages, reason])
        raw = result.get("raw")
        return StructuredAnswer(parsed=result["parsed"], message=raw if isinstance(raw, AIMessage) else None, model=answered_by(raw, self.labels[0]))


def answered_by(message: Any, default: str) -> str:
    """The model name the server reports for an answer, else `default` (the label of the primary model)."""
    meta = getattr(message, "response_metadata", None) or {}
    return str(meta.get("model_name") or default)
