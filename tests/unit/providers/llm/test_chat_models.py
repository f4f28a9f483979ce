"""A structured call's JSON schema is computed once per schema class, left unchanged by binding, and each answer
is still parsed against its own schema."""

from __future__ import annotations

import copy
import threading

from langchain_openai import ChatOpenAI
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nexa_research.providers.llm.chat_models import RoleModelSet, _structured, json_schema
from support.scripted_models import ScriptedChatModel


class City(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=40)


class River(BaseModel):
    model_config = ConfigDict(extra="forbid")
    length_km: int


def test_one_schema_per_class() -> None:
    assert json_schema(City) is json_schema(City)
    assert json_schema(City) == City.model_json_schema()
    assert json_schema(River) == River.model_json_schema() != json_schema(City)


def test_binding_leaves_the_shared_schema_unchanged() -> None:
    before = copy.deepcopy(json_schema(City))

    ChatOpenAI(model="m", api_key="k").with_structured_output(json_schema(City), method="json_schema", include_raw=True)

    assert json_schema(City) == before


async def test_calls_compute_the_schema_once_and_parse_each_answer(monkeypatch) -> None:
    class Lake(BaseModel):  # a class of its own: no earlier call has cached its schema
        model_config = ConfigDict(extra="forbid")
        area_km2: int

    computed: list[type[BaseModel]] = []
    original = Lake.model_json_schema

    def counting(*args, **kwargs):
        computed.append(Lake)
        return original(*args, **kwargs)

    monkeypatch.setattr(Lake, "model_json_schema", counting)
    answers = iter(['{"area_km2": 536}', '{"area_km2": 63}', '{"area_km2": 39}'])
    model = ScriptedChatModel(respond=lambda messages: next(answers))
    role = RoleModelSet(role="reflection", models=[model])

    parsed = [(await role.structured(Lake, [])).parsed for _ in range(3)]

    assert [p.area_km2 for p in parsed] == [536, 63, 39]
    assert computed == [Lake]
    assert len(model.calls) == 3


async def test_the_parse_and_check_steps_run_on_the_event_loop_under_their_own_names() -> None:
    parsed_on: list[str] = []

    class Town(BaseModel):
        name: str

        @model_validator(mode="after")
        def _where(self) -> Town:
            parsed_on.append(threading.current_thread().name)
            return self

    model = ScriptedChatModel(respond=lambda messages: '{"name": "Mainz"}')
    names = [event["name"] async for event in _structured(model, Town).astream_events([], version="v2")
             if event["event"] == "on_chain_end" and event["name"] in ("parse_text", "check")]

    assert names == ["parse_text", "check"]
    assert parsed_on == [threading.current_thread().name]  # not a thread of the default executor
