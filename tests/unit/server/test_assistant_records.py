"""Stored assistants: versions as the official server makes them, config and context in step, one space per key."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from nexa_research.server.assistant_records import (
    AssistantChanges,
    AssistantConflictError,
    AssistantStore,
    next_version,
    synced,
)

ID = "6f1c2a8e-0d4b-4b8e-9a57-3f0e1d2c4b5a"


@pytest.fixture
def store(redis: Redis) -> AssistantStore:
    return AssistantStore(redis, "key-1")


def test_config_and_context_carry_the_same_knobs() -> None:
    assert synced({}, {"max_sections": 3}) == ({"configurable": {"max_sections": 3}}, {"max_sections": 3})
    assert synced({"configurable": {"max_sections": 3}, "tags": ["a"]}, None) == (
        {"configurable": {"max_sections": 3}, "tags": ["a"]}, {"max_sections": 3})
    assert synced(None, None) == ({}, None)
    with pytest.raises(AssistantConflictError, match="context"):
        synced({"configurable": {"max_sections": 3}}, {"max_sections": 4})


def test_an_update_replaces_config_and_context_merges_metadata_and_keeps_the_rest() -> None:
    current = {"assistant_id": ID, "graph_id": "nexa_research", "config": {"configurable": {"max_sections": 3}},
               "context": {"max_sections": 3}, "metadata": {"team": "a", "n": 1}, "name": "three",
               "description": "d", "version": 1}

    renamed = next_version(current, 2, AssistantChanges(metadata={"n": 2}, name="renamed"), "t2")
    assert (renamed["context"], renamed["config"], renamed["metadata"], renamed["name"], renamed["description"]) == (
        {"max_sections": 3}, {"configurable": {"max_sections": 3}}, {"team": "a", "n": 2}, "renamed", "d")
    assert renamed["version"] == 2 and renamed["created_at"] == "t2"

    cleared = next_version(current, 3, AssistantChanges(context={}), "t3")
    assert cleared["context"] == {} and cleared["config"] == {"configurable": {}}, "an empty context clears both"


async def test_create_update_set_latest_and_delete(store: AssistantStore) -> None:
    created, new = await store.create(ID, "nexa_research", {}, {"max_sections": 3}, {"team": "a"}, "three", None)
    assert new and created["version"] == 1 and created["config"] == {"configurable": {"max_sections": 3}}
    again, new = await store.create(ID, "nexa_research", {}, {"max_sections": 9}, {}, "other", None)
    assert not new and again == created

    updated = await store.update(ID, AssistantChanges(context={"max_sections": 5}))
    assert updated is not None and updated["version"] == 2 and updated["context"] == {"max_sections": 5}
    assert updated["created_at"] == created["created_at"]
    assert [v["version"] for v in await store.versions(ID) or []] == [2, 1]

    latest = await store.set_latest(ID, 1)
    assert latest is not None and latest["version"] == 1 and latest["context"] == {"max_sections": 3}
    assert (await store.get(ID) or {})["version"] == 1
    assert await store.set_latest(ID, 7) is None
    third = await store.update(ID, AssistantChanges(name="third"))
    assert third is not None and third["version"] == 3, "a new version follows the highest, not the latest"

    assert await store.delete(ID)
    assert await store.get(ID) is None and await store.versions(ID) is None and await store.all() == []
    assert await store.update(ID, AssistantChanges(name="x")) is None, "an update does not bring it back"
    assert not await store.delete(ID)


async def test_concurrent_updates_each_get_their_own_version(store: AssistantStore) -> None:
    await store.create(ID, "nexa_research", {}, None, {}, "a", None)

    done = await asyncio.gather(*(store.update(ID, AssistantChanges(metadata={"n": n})) for n in range(5)))

    assert sorted(a["version"] for a in done if a) == [2, 3, 4, 5, 6]
    assert [v["version"] for v in await store.versions(ID) or []] == [6, 5, 4, 3, 2, 1]


async def test_each_key_sees_its_own_assistants(store: AssistantStore, redis: Redis) -> None:
    await store.create(ID, "nexa_research", {}, None, {}, "mine", None)
    other = AssistantStore(redis, "key-2")

    assert await other.get(ID) is None and await other.all() == []
    assert [a["name"] for a in await store.all()] == ["mine"]
    assert await AssistantStore(redis, None).all() == [], "auth off has a space of its own"
