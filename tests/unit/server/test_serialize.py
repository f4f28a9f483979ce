"""Graph values as JSON for clients: plain values pass as they are, everything else becomes its JSON form."""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from datetime import UTC, datetime
from uuid import UUID

import pytest
from langgraph.types import Interrupt
from pydantic import BaseModel

from nexa_research.server.serialize import to_jsonable


class Source(BaseModel):
    url: str
    score: float


@dataclasses.dataclass
class Note:
    text: str


class Tagged(dict):
    pass


Pair = namedtuple("Pair", "left right")


def test_plain_state_comes_back_equal_and_every_other_value_as_its_json_form() -> None:
    state = {
        "topic": "The printing press", "n": 3, "score": 0.5, "ok": True, "none": None,
        "paragraphs": [{"index": 0, "research": [{"url": "u", "tags": ("a", 1)}]}],
        1: "an int key", "tagged": Tagged(a={2: [Source(url="s", score=0.7)]}),
        "interrupt": [Interrupt(value={"plan": ["a"]}, id="i1")],
        "when": datetime(2026, 12, 6, 8, 0, tzinfo=UTC), "id": UUID(int=1), "note": Note("n"), "pair": Pair(1, {"x"}),
    }

    assert to_jsonable(state) == {
        "topic": "The printing press", "n": 3, "score": 0.5, "ok": True, "none": None,
        "paragraphs": [{"index": 0, "research": [{"url": "u", "tags": ["a", 1]}]}],
        "1": "an int key", "tagged": {"a": {"2": [{"url": "s", "score": 0.7}]}},
        "interrupt": [{"value": {"plan": ["a"]}, "id": "i1"}],
        "when": "2026-12-06T08:00:00+00:00", "id": "00000000-0000-0000-0000-000000000001", "note": {"text": "n"},
        "pair": [1, ["x"]],
    }


def test_a_value_with_no_json_form_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="cannot send a object as JSON"):
        to_jsonable({"ok": [object()]})
