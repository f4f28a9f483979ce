"""The memory store behind `/store/...`: namespaces as prefixes, filters, expiry, and one store per API key."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from nexa_research.server.store_records import MemoryStore, StoreInputError, check_namespace, value_matches


@pytest.fixture
def store(redis: Redis) -> MemoryStore:
    return MemoryStore(redis, "key-1")


async def test_a_prefix_covers_whole_labels_only(store: MemoryStore) -> None:
    await store.put(("a", "b"), "k", {"n": 1}, None)
    await store.put(("a", "bc"), "k", {"n": 2}, None)
    await store.put(("a", "b", "c"), "k", {"n": 3}, None)

    under_ab = await store.search(("a", "b"), None, 10, 0)

    assert sorted(tuple(i["namespace"]) for i in under_ab) == [("a", "b"), ("a", "b", "c")]
    assert await store.namespaces(("a",), None, None, 10, 0) == [["a", "b"], ["a", "b", "c"], ["a", "bc"]]


async def test_labels_beyond_latin_1_are_found_by_their_prefix(store: MemoryStore) -> None:
    await store.put(("notes", "ādaža"), "k", {"text": "ā"}, None)

    assert [i["key"] for i in await store.search(("notes", "ādaža"), None, 10, 0)] == ["k"]
    assert [i["key"] for i in await store.search(("notes",), None, 10, 0)] == ["k"]


async def test_an_item_with_a_ttl_expires_and_leaves_the_index(store: MemoryStore, redis: Redis) -> None:
    await store.put(("t",), "short", {"v": 1}, ttl_minutes=0.001)  # 60 ms
    await store.put(("t",), "kept", {"v": 2}, None)
    await asyncio.sleep(0.2)

    assert await store.get(("t",), "short") is None
    assert [i["key"] for i in await store.search(("t",), None, 10, 0)] == ["kept"]
    assert await redis.zcard(store.index) == 1


async def test_owners_do_not_see_each_others_items(redis: Redis) -> None:
    await MemoryStore(redis, "key-1").put(("shared", "name"), "k", {"v": 1}, None)

    for other in (MemoryStore(redis, "key-2"), MemoryStore(redis, None)):
        assert await other.get(("shared", "name"), "k") is None
        assert await other.search((), None, 10, 0) == []
        assert await other.namespaces(None, None, None, 10, 0) == []


def test_filters_compare_with_operators_and_nested_fields() -> None:
    value = {"n": 5, "tag": "x", "meta": {"lang": "en"}}

    assert value_matches(value, {"n": {"$gt": 3, "$lte": 5}, "tag": "x"})
    assert value_matches(value, {"meta": {"lang": "en"}})
    assert not value_matches(value, {"n": {"$ne": 5}})
    assert not value_matches(value, {"n": {"$lt": "a string"}}), "kinds that do not compare never match"
    assert not value_matches(value, {"missing": 1})
    with pytest.raises(StoreInputError, match="filter.n"):
        value_matches(value, {"n": {"$near": 5}})


@pytest.mark.parametrize("namespace", [[], ["a.b"], [""], ["ok", 3], "a"])
def test_bad_namespaces_are_refused_naming_the_field(namespace: object) -> None:
    with pytest.raises(StoreInputError, match="^namespace:"):
        check_namespace(namespace, "namespace")  # type: ignore[arg-type]


async def test_bad_values_and_ttls_are_refused(store: MemoryStore) -> None:
    with pytest.raises(StoreInputError, match="^value:"):
        await store.put(("a",), "k", ["not", "an", "object"], None)
    with pytest.raises(StoreInputError, match="^ttl:"):
        await store.put(("a",), "k", {}, 0)
