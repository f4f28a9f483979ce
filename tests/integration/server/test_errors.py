"""Bad input to the server: each a JSON error with a status and a message naming the field, never a 500, and
nothing already stored is lost. Driven with httpx (and langgraph_sdk where its typed errors matter)."""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, NotFoundError

from support.server_harness import auth_headers
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}
RUN = {"assistant_id": "nexa_research", "input": {"topic": TOPIC}}


@pytest.fixture(scope="module")
async def finished_thread(nexa_server) -> str:
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    return thread["thread_id"]


def post(server, path: str, **kwargs) -> httpx.Response:
    headers = {**auth_headers(), **kwargs.pop("headers", {})}
    return httpx.post(f"{server.url}{path}", timeout=30, headers=headers, **kwargs)


def message(response: httpx.Response) -> str:
    body = response.json()
    return body["message"] if isinstance(body.get("detail"), str) else str(body["detail"])


async def test_unknown_ids_are_404(nexa_server, finished_thread):
    client = get_client(url=nexa_server.url)
    with pytest.raises(NotFoundError):
        await client.threads.get("no-such-thread")
    with pytest.raises(NotFoundError):
        await client.assistants.get("no-such-assistant")
    with pytest.raises(NotFoundError):
        await client.runs.get(finished_thread, "no-such-run")
    with pytest.raises(NotFoundError):
        await client.runs.create("no-such-thread", "nexa_research", input={"topic": TOPIC})
    response = post(nexa_server, f"/threads/{finished_thread}/runs", json={**RUN, "assistant_id": "other"})
    assert response.status_code == 404 and "assistant 'other'" in message(response)
    for path in ("/state", "/runs", "/runs/x/join"):
        assert httpx.get(f"{nexa_server.url}/threads/nope{path}", headers=auth_headers()).status_code == 404


async def test_resuming_a_thread_that_is_not_interrupted_is_409_and_keeps_its_state(nexa_server, finished_thread):
    client = get_client(url=nexa_server.url)
    before = await client.threads.get_state(finished_thread)
    with pytest.raises(ConflictError, match="not interrupted"):
        await client.runs.create(finished_thread, "nexa_research", command={"resume": "approve"})
    after = await client.threads.get_state(finished_thread)
    assert after["checkpoint"] == before["checkpoint"]
    assert [s["title"] for s in after["values"]["report"]["sections"]] == TITLES


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RUN, "context": {"max_iterations": 7}}, "max_iterations"),
        ({**RUN, "context": {"colour": "blue"}}, "context.colour"),
        ({**RUN, "config": {"configurable": {"search_results": 0}}}, "search_results"),
        ({**RUN, "config": {"configurable": {"kb_collection": "../etc"}}}, "kb_collection"),
        ({**RUN, "config": {"configurable": {"bogus_knob": 1}}}, "config.configurable.bogus_knob"),
        ({**RUN, "input": {"topic": "   "}}, "topic"),
        ({**RUN, "input": {"topic": "x" * 2001}}, "topic"),
        ({**RUN, "input": {"subject": "x"}}, "input.subject"),
        ({**RUN, "stream_mode": ["telepathy"]}, "stream_mode"),
        ({**RUN, "multitask_strategy": "rollback"}, "multitask_strategy"),
        ({"input": {"topic": TOPIC}}, "assistant_id"),
    ],
)
def test_bad_run_requests_are_422_naming_the_field(nexa_server, body, field):
    response = post(nexa_server, "/runs", json=body)
    assert response.status_code == 422, response.text
    assert field in message(response)


def test_malformed_json_is_422_not_500(nexa_server):
    response = post(nexa_server, "/runs", content=b'{"assistant_id": "nexa_research", "input": {', headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_a_body_over_64_kb_is_413(nexa_server):
    big = {**RUN, "metadata": {"padding": "x" * 70_000}}
    response = post(nexa_server, "/runs", json=big)
    assert response.status_code == 413 and "limit" in message(response)
    chunked = post(nexa_server, "/runs", content=iter([b'{"padding": "' + b"x" * 40_000, b"x" * 40_000 + b'"}']),
                   headers={"content-type": "application/json"})
    assert chunked.status_code == 413


async def test_cancel_of_a_finished_run_is_409_and_rollback_is_422(nexa_server, finished_thread):
    client = get_client(url=nexa_server.url)
    run = (await client.runs.list(finished_thread))[0]
    with pytest.raises(ConflictError):
        await client.runs.cancel(finished_thread, run["run_id"])
    response = post(nexa_server, f"/threads/{finished_thread}/runs/{run['run_id']}/cancel", params={"action": "rollback"})
    assert response.status_code == 422


def test_openapi_docs_describe_every_route_and_its_errors(nexa_server):
    assert httpx.get(f"{nexa_server.url}/docs", headers=auth_headers()).status_code == 200
    spec = httpx.get(f"{nexa_server.url}/openapi.json", headers=auth_headers()).json()
    for path in ("/threads", "/threads/{thread_id}/state", "/threads/{thread_id}/history", "/threads/{thread_id}/runs",
                 "/threads/{thread_id}/runs/stream", "/threads/{thread_id}/runs/wait", "/runs", "/runs/stream",
                 "/threads/{thread_id}/runs/{run_id}/stream", "/threads/{thread_id}/runs/{run_id}/cancel",
                 "/assistants/search", "/research/invoke"):
        assert path in spec["paths"], path
    create = spec["paths"]["/threads/{thread_id}/runs"]["post"]["responses"]
    assert {"404", "409", "413", "422"} <= set(create)
