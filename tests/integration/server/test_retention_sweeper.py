"""The API's retention sweep on a real Redis Stack, for runs that never go through a worker: LangServe's /research
runs in the API process, and its finished threads expire like any other; a thread it left paused keeps its keys."""

from __future__ import annotations

import time

import pytest
import redis
from fastapi.testclient import TestClient

from nexa_research.server.app import create_app
from support.scripted_models import providers_for

pytestmark = pytest.mark.redis
TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


def ttls(client: redis.Redis, thread_id: str) -> dict[str, int]:
    return {key: client.ttl(key) for key in client.scan_iter(match=f"*{thread_id}*", count=1000)}


def test_langserve_threads_expire_when_finished_and_are_kept_while_paused(redis_stack_factory, monkeypatch) -> None:
    url = redis_stack_factory().start()
    for name, value in {"REDIS_URL": url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false", "NEXA_USE_MEMORY": "false",
                        "NEXA_SERVER_AUTH": "off", "NEXA_RETENTION_DAYS": repr(20 / 86_400),
                        "NEXA_SERVER_RETENTION_SWEEP_SECONDS": "0.3"}.items():
        monkeypatch.setenv(name, value)
    keys = redis.Redis.from_url(url, decode_responses=True)
    with TestClient(create_app(providers_for(TITLES))) as client:
        for thread_id, review in (("ls-done", False), ("ls-paused", True)):
            body = {"input": {"topic": "The printing press"},
                    "config": {"configurable": {"thread_id": thread_id, "max_iterations": 1, "review_plan": review}}}
            assert client.post("/research/invoke", json=body).status_code == 200
        deadline = time.monotonic() + 20
        while not all(0 < ttl <= 20 for ttl in ttls(keys, "ls-done").values()):
            assert time.monotonic() < deadline, f"the finished thread got no expiry: {ttls(keys, 'ls-done')}"
            time.sleep(0.2)
        time.sleep(1)  # sweeps after that one
        finished, paused = ttls(keys, "ls-done"), ttls(keys, "ls-paused")
    keys.close()
    assert len(finished) > 50 and all(0 < ttl <= 20 for ttl in finished.values())
    assert paused and set(paused.values()) == {-1}
