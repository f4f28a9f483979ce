"""The LangServe routes of the app: per-request config reaches the nodes; a bad knob is a 422 naming the field.

The app keeps its threads in Redis, so these run on the session's Redis Stack (report cache off).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from nexa_research.server.app import create_app
from support.scripted_models import providers_for

pytestmark = pytest.mark.redis
TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch, redis_stack_url: str) -> Callable[[], TestClient]:
    """Each test enters the client as a context manager: the app's lifespan opens its runtime. Auth is off here
    (these tests are about LangServe's behaviour; tests/test_server_access.py is about keys)."""
    for name, value in {"REDIS_URL": redis_stack_url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false",
                        "NEXA_USE_MEMORY": "false", "NEXA_SERVER_AUTH": "off"}.items():
        monkeypatch.setenv(name, value)
    return lambda: TestClient(create_app(providers_for(TITLES)), raise_server_exceptions=False)


def test_health(make_client):
    with make_client() as client:
        assert client.get("/health").json() == {"status": "ok"}


def test_invoke_honours_per_request_config(make_client):
    body = {"input": {"topic": "The printing press"}, "config": {"configurable": {"max_iterations": 1, "language": "French"}}}
    with make_client() as client:
        response = client.post("/research/invoke", json=body)
    assert response.status_code == 200
    report = response.json()["output"]["report"]
    assert report["metadata"]["config"]["language"] == "French"
    assert [s["title"] for s in report["sections"]] == TITLES


def test_out_of_range_knob_is_a_422_naming_the_field(make_client):
    body = {"input": {"topic": "The printing press"}, "config": {"configurable": {"max_iterations": 7}}}
    with make_client() as client:
        response = client.post("/research/invoke", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["configurable", "max_iterations"]


def test_unknown_knob_and_bad_thread_id_are_422s_naming_the_field(make_client):
    with make_client() as client:
        for configurable, loc in [({"max_iteration": 1}, ["configurable", "max_iteration"]),
                                  ({"thread_id": ""}, ["configurable", "thread_id"])]:
            body = {"input": {"topic": "The printing press"}, "config": {"configurable": configurable}}
            response = client.post("/research/invoke", json=body)
            assert response.status_code == 422, configurable
            assert response.json()["detail"][0]["loc"] == loc


def test_config_schema_shows_the_knobs_and_thread_id(make_client):
    """The playground draws its config form from this: LangServe's default would show no knob at all."""
    with make_client() as client:
        schema = client.get("/research/config_schema").json()
    knobs = schema["$defs"]["Configurable"]["properties"]
    assert {"thread_id", "max_iterations", "language", "review_plan"} <= set(knobs)
    assert knobs["max_iterations"]["anyOf"][0] == {"maximum": 3, "minimum": 1, "type": "integer"}
