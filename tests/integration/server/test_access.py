"""Access to the server: keys, atomic daily quotas, tiers, isolation between keys, rate limits, endpoint knobs.

Real uvicorn, Redis Stack and worker processes (tests/server_harness.py); keys made as `nexa keys create` makes
them (KeyStore), clients langgraph_sdk, RemoteRunnable and httpx.
"""

from __future__ import annotations

import asyncio
import subprocess

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError
from langserve import RemoteRunnable

from support.server_harness import make_key
from support.server_providers import TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}
RUN = {"assistant_id": "nexa_research", "input": {"topic": TOPIC}, "context": QUICK}


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key}


async def test_fifty_concurrent_creations_admit_exactly_the_quota_and_it_survives_a_restart(cluster_factory, server_env):
    key = make_key(server_env["REDIS_URL"], "burst", "custom", daily_quota=10)
    cluster = cluster_factory()
    try:
        cluster.start_api()
        async with httpx.AsyncClient(base_url=cluster.url, headers=headers(key), timeout=60) as http:
            responses = await asyncio.gather(*(http.post("/runs", json=RUN) for _ in range(50)))
            codes = sorted(r.status_code for r in responses)
            assert codes == [200] * 10 + [429] * 40
            refused = [r for r in responses if r.status_code == 429]
            assert all(int(r.headers["retry-after"]) > 0 and "resets at" in r.json()["message"] for r in refused)
            remaining = sorted(int(r.headers["x-quota-remaining"]) for r in responses if r.status_code == 200)
            assert remaining == list(range(10))
            assert sum("x-quota-warning" in r.headers for r in responses if r.status_code == 200) == 3  # 8, 9, 10 of 10
        for api in cluster.apis:
            api.terminate()
            api.wait(timeout=20)
        cluster.start_api()
        again = httpx.post(f"{cluster.url}/runs", json=RUN, headers=headers(key), timeout=30)
        assert again.status_code == 429, "the count survives an API restart"
    finally:
        cluster.stop()


async def test_a_request_refused_for_another_reason_costs_no_quota(nexa_server, server_env):
    key = make_key(server_env["REDIS_URL"], "careful", "custom", daily_quota=1)
    bad = httpx.post(f"{nexa_server.url}/runs", json={**RUN, "context": {"max_iterations": 9}}, headers=headers(key))
    assert bad.status_code == 422
    good = httpx.post(f"{nexa_server.url}/runs", json=RUN, headers=headers(key))
    assert good.status_code == 200 and good.headers["x-quota-remaining"] == "0"
    # a stateless run refused for the quota leaves no empty thread of its own behind
    over = httpx.post(f"{nexa_server.url}/runs", json=RUN, headers=headers(key))
    assert over.status_code == 429
    threads = await get_client(url=nexa_server.url, api_key=key).threads.search(limit=100)
    assert [t["thread_id"] for t in threads] == [good.json()["thread_id"]]


async def test_a_key_sees_only_its_own_threads_runs_and_streams(nexa_server, server_env):
    alice = get_client(url=nexa_server.url, api_key=make_key(server_env["REDIS_URL"], "alice", "pro"))
    bob_key = make_key(server_env["REDIS_URL"], "bob", "pro")
    bob = get_client(url=nexa_server.url, api_key=bob_key)
    thread = await alice.threads.create(metadata={"who": "alice"})
    run = await alice.runs.create(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    await alice.runs.join(thread["thread_id"], run["run_id"])
    tid, rid = thread["thread_id"], run["run_id"]
    attempts = [
        lambda: bob.threads.get(tid), lambda: bob.threads.get_state(tid), lambda: bob.threads.get_history(tid),
        lambda: bob.runs.get(tid, rid), lambda: bob.runs.join(tid, rid), lambda: bob.runs.list(tid),
        lambda: bob.runs.cancel(tid, rid), lambda: bob.runs.create(tid, "nexa_research", input={"topic": TOPIC}),
        lambda: bob.threads.update_state(tid, {"title": "mine now"}), lambda: bob.threads.delete(tid),
    ]
    for attempt in attempts:
        with pytest.raises((NotFoundError, httpx.HTTPStatusError)) as refused:
            await attempt()
        assert refused.value.response.status_code == 404
    with pytest.raises(NotFoundError):
        [p async for p in bob.runs.join_stream(tid, rid)]
    assert tid not in [t["thread_id"] for t in await bob.threads.search(limit=100)]
    assert tid in [t["thread_id"] for t in await alice.threads.search(limit=100)]
    stolen = httpx.post(f"{nexa_server.url}/research/invoke", headers=headers(bob_key),
                        json={"input": {"topic": TOPIC}, "config": {"configurable": {"thread_id": tid}}})
    assert stolen.status_code == 404
    assert (await alice.threads.get(tid))["values"]["report"], "alice's thread is intact"


def test_no_route_but_the_open_ones_answers_without_a_key_and_a_revoked_key_is_refused_at_once(nexa_server, server_env):
    url = nexa_server.url
    assert httpx.get(f"{url}/ok").status_code == 200 and httpx.get(f"{url}/health").status_code == 200
    spec = httpx.get(f"{url}/openapi.json", headers=headers(make_key(server_env["REDIS_URL"], "docs", "free"))).json()
    for path, methods in spec["paths"].items():
        concrete = path.replace("{thread_id}", "t").replace("{run_id}", "r").replace("{assistant_id}", "a") \
                       .replace("{checkpoint_id}", "c")
        for method in methods:
            response = httpx.request(method.upper(), f"{url}{concrete}", json={})
            if path in ("/ok", "/health", "/metrics"):
                continue
            assert response.status_code == 401, (method, path, response.status_code)
    assert httpx.get(f"{url}/threads/x", headers={"authorization": "Bearer nxr_000000000000_forged"}).status_code == 401
    key = make_key(server_env["REDIS_URL"], "leaver", "free")
    assert httpx.post(f"{url}/threads", json={}, headers={"authorization": f"Bearer {key}"}).status_code == 200
    key_id = key.split("_")[1]
    subprocess.run(["nexa", "keys", "revoke", key_id], check=True, capture_output=True,
                   env={**server_env, "PATH": _venv_path()})
    assert httpx.post(f"{url}/threads", json={}, headers=headers(key)).status_code == 401


def test_tier_limits_are_a_403_naming_the_limit(nexa_server, server_env):
    free = make_key(server_env["REDIS_URL"], "thrifty", "free")
    over = httpx.post(f"{nexa_server.url}/runs", headers=headers(free),
                      json={**RUN, "context": {"max_iterations": 3, "search_results": 5}})
    assert over.status_code == 403 and "max_iterations" in over.json()["message"] and "free" in over.json()["message"]
    fits = httpx.post(f"{nexa_server.url}/runs", headers=headers(free), json={**RUN, "context": {}})
    assert fits.status_code == 200
    assert fits.json()["kwargs"]["context"]["max_sections"] == 5, "unset knobs take the tier's limit"


def test_endpoint_knobs_from_callers_are_refused_unless_the_operator_allows_them(nexa_server, cluster_factory, server_env):
    key = make_key(server_env["REDIS_URL"], "prober", "custom")
    internal = {**RUN, "context": {"models": {"planner": {"base_url": "http://127.0.0.1:6379/v1"}}}}
    refused = httpx.post(f"{nexa_server.url}/runs", json=internal, headers=headers(key))
    assert refused.status_code == 403 and "models.planner.base_url" in refused.json()["message"]
    leak = {**RUN, "context": {"models": {"planner": {"api_key_env": "OPENAI_API_KEY"}}}}
    assert httpx.post(f"{nexa_server.url}/runs", json=leak, headers=headers(key)).status_code == 403
    cluster = cluster_factory(NEXA_SERVER_ALLOW_ENDPOINT_KNOBS="true")
    try:
        url = cluster.start_api()
        private = httpx.post(f"{url}/runs", json=internal, headers=headers(key))
        assert private.status_code == 403 and "private" in private.json()["message"]
        public = {**RUN, "context": {"models": {"planner": {"base_url": "http://8.8.8.8/v1"}}}}
        assert httpx.post(f"{url}/runs", json=public, headers=headers(key)).status_code == 200
    finally:
        cluster.stop()


def test_request_rate_limit_per_key(cluster_factory, server_env):
    key = make_key(server_env["REDIS_URL"], "hasty", "pro")
    cluster = cluster_factory(NEXA_SERVER_REQUESTS_PER_MINUTE_PER_KEY="5")
    try:
        url = cluster.start_api()
        codes = [httpx.post(f"{url}/threads/search", json={}, headers=headers(key)).status_code for _ in range(7)]
        limited = httpx.post(f"{url}/threads/search", json={}, headers=headers(key))
    finally:
        cluster.stop()
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 61


def test_request_rate_limit_per_address_counts_requests_without_a_key_too(cluster_factory):
    cluster = cluster_factory(NEXA_SERVER_REQUESTS_PER_MINUTE_PER_IP="4")
    try:
        url = cluster.start_api()
        codes = [httpx.get(f"{url}/threads/x").status_code for _ in range(6)]
    finally:
        cluster.stop()
    assert codes == [401] * 4 + [429] * 2, "a key-guessing client is slowed down as well"


def test_langserve_routes_need_a_key_too(nexa_server, server_env):
    remote = RemoteRunnable(f"{nexa_server.url}/research", timeout=60)
    with pytest.raises(httpx.HTTPStatusError) as refused:
        remote.invoke({"topic": TOPIC})
    assert refused.value.response.status_code == 401
    key = make_key(server_env["REDIS_URL"], "langserve", "pro")
    out = RemoteRunnable(f"{nexa_server.url}/research", timeout=60, headers=headers(key)).invoke(
        {"topic": TOPIC}, config={"configurable": {"max_iterations": 1}})
    assert out["report"]["sections"]


def _venv_path() -> str:
    import os
    import sys

    return os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])


async def test_a_burst_beyond_the_redis_pool_waits_instead_of_failing(cluster_factory, server_env):
    """More requests at once than the Redis pool holds queue for a connection: no 5xx (it used to be 500s).

    15 requests per pooled connection. It was 300 sockets on a pool of 20: on a slower CI machine 13 of them got a
    connection reset while the server logged no error and answered the other 287 (not reproduced here, with or
    without three busy loops beside it); the pool, not the socket count, is what this test is about."""
    key = make_key(server_env["REDIS_URL"], "crowd", "custom")
    cluster = cluster_factory(NEXA_SERVER_REDIS_MAX_CONNECTIONS="10", NEXA_SERVER_REQUESTS_PER_MINUTE_PER_KEY="100000",
                              NEXA_SERVER_REQUESTS_PER_MINUTE_PER_IP="100000")
    try:
        url = cluster.start_api()
        limits = httpx.Limits(max_connections=150, max_keepalive_connections=150)
        async with httpx.AsyncClient(base_url=url, headers=headers(key), timeout=120, limits=limits) as http:
            thread = (await http.post("/threads", json={})).json()
            answers = await asyncio.gather(*(http.get(f"/threads/{thread['thread_id']}") for _ in range(150)))
    finally:
        cluster.stop()
    assert sorted({a.status_code for a in answers}) == [200]
