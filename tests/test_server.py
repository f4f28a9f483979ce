"""The LangServe routes: per-request config reaches the nodes; a bad knob is a 422 naming the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nexa_research.server.app import create_app
from scripted_models import providers_for

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


def _client() -> TestClient:
    """Entered as a context manager by each test: the app's lifespan opens its runtime."""
    return TestClient(create_app(providers_for(TITLES)), raise_server_exceptions=False)


def test_health():
    with _client() as client:
        assert client.get("/health").json() == {"status": "ok"}


def test_invoke_honours_per_request_config():
    body = {"input": {"topic": "The printing press"}, "config": {"configurable": {"max_iterations": 1, "language": "French"}}}
    with _client() as client:
        response = client.post("/research/invoke", json=body)
    assert response.status_code == 200
    report = response.json()["output"]["report"]
    assert report["metadata"]["config"]["language"] == "French"
    assert [s["title"] for s in report["sections"]] == TITLES


def test_out_of_range_knob_is_a_422_naming_the_field():
    body = {"input": {"topic": "The printing press"}, "config": {"configurable": {"max_iterations": 7}}}
    with _client() as client:
        response = client.post("/research/invoke", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["configurable", "max_iterations"]
