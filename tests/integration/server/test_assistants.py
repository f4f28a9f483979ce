"""Stored assistants, as Studio's "Manage assistants" and langgraph_sdk make them: create, read, search, versions,
the latest version, delete; runs that take an assistant's knobs under their own; knob checks, tiers and
isolation between keys applying to what an assistant carries.

A real uvicorn + worker cluster with scripted models (tests/support/server_providers.py); langgraph_sdk unchanged.
"""

from __future__ import annotations

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, NotFoundError, PermissionDeniedError, UnprocessableEntityError
from redis.asyncio import Redis

from nexa_research.server.assistant_records import AssistantStore
from support.server_harness import make_key
from support.server_providers import TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}


async def test_create_search_update_versions_set_latest_and_delete(nexa_server):
    client = get_client(url=nexa_server.url)
    created = await client.assistants.create("nexa_research", context={"max_sections": 3}, metadata={"team": "a"},
                                             name="Three sections", description="short reports")
    assistant_id = created["assistant_id"]
    assert created["version"] == 1 and created["config"] == {"configurable": {"max_sections": 3}}
    assert (await client.assistants.get(assistant_id)) == created
    assert (await client.assistants.create("nexa_research", assistant_id=assistant_id, name="x",
                                           if_exists="do_nothing")) == created
    with pytest.raises(ConflictError):
        await client.assistants.create("nexa_research", assistant_id=assistant_id)

    found = await client.assistants.search(metadata={"team": "a"})
    assert [a["assistant_id"] for a in found] == [assistant_id]
    assert [a["name"] for a in await client.assistants.search(name="three")] == ["Three sections"]
    assert [a["name"] for a in await client.assistants.search()][:2] == ["Three sections", "nexa_research"]
    page = await client.assistants.search(limit=1, response_format="object")
    assert len(page["assistants"]) == 1 and page["next"] == "1"
    assert await client.assistants.count(metadata={"team": "a"}) == 1
    assert await client.assistants.count(graph_id="nexa_research") >= 2
    with pytest.raises(NotFoundError):
        await client.assistants.search(graph_id="no_such_graph")

    second = await client.assistants.update(assistant_id, context={"max_sections": 4}, metadata={"n": 2})
    assert second["version"] == 2 and second["context"] == {"max_sections": 4}
    assert second["metadata"] == {"team": "a", "n": 2} and second["name"] == "Three sections"
    third = await client.assistants.update(assistant_id, name="Renamed")
    assert third["version"] == 3 and third["context"] == {"max_sections": 4}
    versions = await client.assistants.get_versions(assistant_id)
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert [v["version"] for v in await client.assistants.get_versions(assistant_id, metadata={"n": 2})] == [3, 2]
    assert [v["version"] for v in await client.assistants.get_versions(assistant_id, limit=1, offset=1)] == [2]

    back = await client.assistants.set_latest(assistant_id, 1)
    assert back["version"] == 1 and back["context"] == {"max_sections": 3} and back["name"] == "Three sections"
    assert (await client.assistants.get(assistant_id))["version"] == 1
    with pytest.raises(NotFoundError):
        await client.assistants.set_latest(assistant_id, 9)
    assert (await client.assistants.update(assistant_id, metadata={"n": 4}))["version"] == 4

    with pytest.raises(ConflictError):
        await client.assistants.update("nexa_research", context={"max_sections": 4})
    await client.assistants.delete(assistant_id)
    with pytest.raises(NotFoundError):
        await client.assistants.get(assistant_id)
    with pytest.raises(NotFoundError):
        await client.assistants.delete(assistant_id)
    with pytest.raises(NotFoundError):
        await client.assistants.create("another_graph")


async def test_a_run_takes_the_assistant_s_knobs_under_its_own(nexa_server):
    client = get_client(url=nexa_server.url)
    assistant = await client.assistants.create("nexa_research", context={"max_sections": 3, "max_iterations": 1})
    assistant_id = assistant["assistant_id"]
    assert set(await client.assistants.get_subgraphs(assistant_id)) == {"research_paragraph"}
    assert "max_sections" in (await client.assistants.get_schemas(assistant_id))["context_schema"]["properties"]
    assert (await client.assistants.get_graph(assistant_id))["nodes"]

    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], assistant_id, input={"topic": TOPIC})
    assert run["assistant_id"] == assistant_id
    assert run["kwargs"]["context"]["max_sections"] == 3 and run["kwargs"]["context"]["max_iterations"] == 1
    await client.runs.join(thread["thread_id"], run["run_id"])
    state = await client.threads.get_state(thread["thread_id"])
    assert len(state["values"]["report"]["sections"]) == 3, "the assistant's max_sections shaped the report"
    metadata = (await client.threads.get(thread["thread_id"]))["metadata"]
    assert metadata["graph_id"] == "nexa_research" and metadata["assistant_id"] == assistant_id

    own = await client.threads.create()
    done = await client.runs.wait(own["thread_id"], assistant_id, input={"topic": TOPIC}, context={"max_sections": 4})
    assert len(done["report"]["sections"]) == 4, "the run's own context wins"
    configured = await client.runs.create(None, assistant_id, input={"topic": TOPIC},
                                          config={"configurable": {"max_sections": 4}})
    assert configured["kwargs"]["context"]["max_iterations"] == 1
    assert configured["kwargs"]["context"]["max_sections"] == 4, "the run's config.configurable wins too"
    await client.runs.join(configured["thread_id"], configured["run_id"])

    await client.assistants.delete(assistant_id)
    with pytest.raises(NotFoundError):
        await client.runs.create(None, assistant_id, input={"topic": TOPIC})


async def test_invalid_knobs_are_refused_when_stored(nexa_server):
    client = get_client(url=nexa_server.url)
    with pytest.raises(UnprocessableEntityError, match="context.sections"):
        await client.assistants.create("nexa_research", context={"sections": 3})
    with pytest.raises(UnprocessableEntityError, match="max_iterations"):
        await client.assistants.create("nexa_research", config={"configurable": {"max_iterations": 9}})
    with pytest.raises(UnprocessableEntityError, match="assistant_id"):
        await client.assistants.create("nexa_research", assistant_id="not-a-uuid")
    assistant = await client.assistants.create("nexa_research", context={"max_sections": 3})
    with pytest.raises(UnprocessableEntityError, match="min_sections"):
        await client.assistants.update(assistant["assistant_id"], context={"min_sections": 5, "max_sections": 4})
    assert (await client.assistants.get(assistant["assistant_id"]))["version"] == 1, "a refused update stores nothing"
    await client.assistants.delete(assistant["assistant_id"])


async def test_tier_and_endpoint_limits_apply_to_an_assistant_s_knobs(nexa_server, server_env):
    free = make_key(server_env["REDIS_URL"], "thrifty-assistant", "free")
    client = get_client(url=nexa_server.url, api_key=free)
    with pytest.raises(PermissionDeniedError, match="max_sections"):
        await client.assistants.create("nexa_research", context={"max_sections": 7})
    with pytest.raises(PermissionDeniedError, match="models.planner.base_url"):
        await client.assistants.create("nexa_research",
                                       context={"models": {"planner": {"base_url": "http://127.0.0.1:9/v1"}}})
    # One stored while the key's tier allowed it (written as the server writes it): its runs are held to the tier.
    redis = Redis.from_url(server_env["REDIS_URL"])
    try:
        stored, _ = await AssistantStore(redis, free.split("_")[1]).create(
            "0b6a7f4e-3c1d-4e2a-9f8b-5d4c3b2a1f0e", "nexa_research", {}, {"max_sections": 7}, {}, "seven", None)
    finally:
        await redis.aclose()
    with pytest.raises(PermissionDeniedError, match="max_sections"):
        await client.runs.create(None, stored["assistant_id"], input={"topic": TOPIC})
    fits = await client.runs.create(None, stored["assistant_id"], input={"topic": TOPIC}, context={"max_sections": 5})
    assert fits["kwargs"]["context"]["max_sections"] == 5
    await client.runs.join(fits["thread_id"], fits["run_id"])


async def test_each_key_has_its_own_assistants(nexa_server, server_env):
    mine = get_client(url=nexa_server.url)
    other = get_client(url=nexa_server.url, api_key=make_key(server_env["REDIS_URL"], "neighbour", "custom"))
    assistant = await mine.assistants.create("nexa_research", name="private", context={"max_sections": 3})
    assistant_id = assistant["assistant_id"]
    for call in (other.assistants.get(assistant_id), other.assistants.get_versions(assistant_id),
                 other.assistants.update(assistant_id, name="taken"), other.assistants.delete(assistant_id),
                 other.assistants.get_schemas(assistant_id),
                 other.runs.create(None, assistant_id, input={"topic": TOPIC})):
        with pytest.raises(NotFoundError):
            await call
    assert [a["assistant_id"] for a in await other.assistants.search()] != [] and assistant_id not in [
        a["assistant_id"] for a in await other.assistants.search(limit=100)]
    assert await other.assistants.count(name="private") == 0
    assert (await mine.assistants.get(assistant_id))["name"] == "private"
    await mine.assistants.delete(assistant_id)
