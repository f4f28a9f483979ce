"""Structured answers that break a bound of their schema are repaired in code where the fix is unambiguous.

A model asked for an executive summary of at most 2000 characters may write 2300; a plan may carry one key
question too many or a key the schema does not have. Throwing such an answer away (or worse, ending the run)
wastes a model call that said something usable. So before an answer is rejected:
- a string over its `max_length` is cut at the last sentence (or word) boundary that fits;
- a list over its `max_length` keeps its first items;
- a key the schema forbids is dropped.
Anything else (a missing field, a wrong type, a string too short) cannot be fixed without guessing: the answer
is rejected with pydantic's reason, and the caller asks again with that reason.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from nexa_research.errors import StructuredOutputError

T = TypeVar("T", bound=BaseModel)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_REPAIRABLE = {"string_too_long", "too_long", "extra_forbidden"}


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut after the last full sentence that fits, else at a word boundary."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] >= limit // 3:
        return head[: ends[-1]].strip()
    return head.rsplit(" ", 1)[0].strip() if " " in head else head


def _parent(data: Any, loc: tuple[Any, ...]) -> tuple[Any, Any]:
    node = data
    for key in loc[:-1]:
        node = node[key]
    return node, loc[-1]


def _apply(data: Any, error: Mapping[str, Any]) -> bool:
    loc = tuple(error["loc"])
    if not loc:
        return False
    try:
        parent, key = _parent(data, loc)
    except (KeyError, IndexError, TypeError):
        return False
    kind = error["type"]
    if kind == "extra_forbidden" and isinstance(parent, dict) and key in parent:
        del parent[key]
        return True
    limit = (error.get("ctx") or {}).get("max_length")
    if limit is None:
        return False
    value = parent[key]
    if kind == "string_too_long" and isinstance(value, str):
        parent[key] = shorten(value, int(limit))
        return True
    if kind == "too_long" and isinstance(value, list):
        parent[key] = value[: int(limit)]
        return True
    return False


def validate_or_repair(data: Any, schema: type[T]) -> T:
    """`schema` validated from `data`, after the unambiguous repairs above; `StructuredOutputError` otherwise."""
    candidate = copy.deepcopy(data)
    for _ in range(5):  # each pass fixes every repairable error pydantic reported; nesting can reveal more
        try:
            return schema.model_validate(candidate)
        except ValidationError as exc:
            errors = exc.errors()
            if any(e["type"] not in _REPAIRABLE for e in errors):
                raise StructuredOutputError(f"answer does not match {schema.__name__}: {exc}") from exc
            # deepest locations first, so deleting a list item or key never shifts one still to fix
            fixed = [_apply(candidate, e) for e in sorted(errors, key=lambda e: -len(e["loc"]))]
            if not any(fixed):
                raise StructuredOutputError(f"answer does not match {schema.__name__}: {exc}") from exc
    try:
        return schema.model_validate(candidate)
    except ValidationError as exc:
        raise StructuredOutputError(f"answer does not match {schema.__name__}: {exc}") from exc
