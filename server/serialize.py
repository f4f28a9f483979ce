"""Graph values, stream chunks and snapshots as JSON, the way langgraph_sdk clients expect to read them.

State values are mostly plain dicts already; what is not: LangGraph's `Interrupt` (sent as {"value", "id"}),
`Send`/`Command` objects in task results, LangChain messages and pydantic models (their dumps), datetimes
(ISO text), tuples and sets (lists). Anything else is a bug in what we put into state, so it raises.

Plain containers and scalars are recognised by their exact type first: a worker converts every values, updates
and custom chunk of every run, and the chain of isinstance checks was most of that walk.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from langgraph.types import Interrupt
from pydantic import BaseModel

_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): v if type(v) in _PLAIN else to_jsonable(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else to_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Interrupt):
        return {"value": to_jsonable(value.value), "id": value.id}
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="json"))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "to_json") and hasattr(value, "lc_serializable"):
        return to_jsonable(value.to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):
        return to_jsonable(value._asdict())
    if hasattr(value, "value") and type(value).__name__ == "Overwrite":
        return to_jsonable(value.value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value))
