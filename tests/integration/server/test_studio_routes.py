"""The routes LangGraph Studio calls beyond a plain client, driven by langgraph_sdk unchanged (and httpx where
Studio's own wire habits matter: JSON sent as text/plain, CORS preflights from its origin).

A real uvicorn + worker cluster with scripted models (tests/support/server_providers.py).
"""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from support.server_harness import auth_headers, make_key
from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
QUICK = {"max_iterations": 1, "max_sections": 4}
STUDIO = "https://smith.langchain.com"


@pytest.fixture(scope="module")
async def finished_thread(nexa_server) -> str:
    client = get_client(url=nexa_server.url)
    thread = await client.threads.create(metadata={"purpose": "studio"})
    await client.runs.wait(thread["thread_id"], "nexa_research", input={"topic": TOPIC}, context=QUICK)
    return thread["thread_id"]


async def test_graph_drawn_with_and_without_the_section_subgraph(nexa_server):
    client = get_client(url=nexa_server.url)
    flat = await client.assistants.get_graph("nexa_research")
    xray = await client.assistants.get_graph("nexa_research", xray=True)
    flat_ids = {n["id"] for n in flat["nodes"]}
    assert {"plan", "review_plan", "research_paragraph", "collate"} <= flat_ids
    assert not any(i.startswith("research_paragraph:") for i in flat_ids)
    assert {"research_paragraph:generate_query", "research_paragraph:reflect"} <= {n["id"] for n in xray["nodes"]}
    assert any(e["source"] == "plan" for e in flat["edges"])
    with pytest.raises(UnprocessableEntityError):
        await client.http.get("/assistants/nexa_research/graph", params={"xray": "sideways"})


async def test_schemas_of_the_graph_and_its_subgraphs(nexa_server):
    client = get_client(url=nexa_server.url)
    schemas = await client.assistants.get_schemas("nexa_research")
    assert "topic" in schemas["input_schema"]["properties"]
    assert {"topic", "paragraphs", "sources", "report"} <= set(schemas["state_schema"]["properties"])
    assert {"max_sections", "review_plan"} <= set(schemas["context_schema"]["properties"])
    subgraphs = await client.assistants.get_subgraphs("nexa_research")
    assert list(subgraphs) == ["research_paragraph"]
    section = subgraphs["research_paragraph"]
    assert {"paragraph", "topic"} <= set(section["input_schema"]["properties"])
    assert "reflection" in section["state_schema"]["properties"]
    assert await client.assistants.get_subgraphs("nexa_research", namespace="research_paragraph") == subgraphs
    assert await client.assistants.get_subgraphs("nexa_research", namespace="no_such_node") == {}
    with pytest.raises(NotFoundError):
        await client.assistants.get_subgraphs("not-an-assistant")


async def test_assistant_versions_count_search_and_create(nexa_server):
    client = get_client(url=nexa_server.url)
    assistant = await client.assistants.get("nexa_research")
    versions = await client.assistants.get_versions(assistant["assistant_id"])
    assert [v["version"] for v in versions] == [1] and versions[0]["graph_id"] == "nexa_research"
    assert await client.assistants.count(graph_id="nexa_research") == 1
    assert await client.assistants.count(metadata={"created_by": "someone else"}) == 0
    picked = await client.assistants.search(select=["assistant_id", "name"], sort_by="name", sort_order="asc")
    assert picked == [{"assistant_id": assistant["assistant_id"], "name": "nexa_research"}]
    assert await client.assistants.search(name="RESEARCH") != []
    with pytest.raises(UnprocessableEntityError):
        await client.assistants.search(select=["no_such_field"])
    same = await client.assistants.create("nexa_research", assistant_id=assistant["assistant_id"], if_exists="do_nothing")
    assert same["assistant_id"] == assistant["assistant_id"]
    with pytest.raises(ConflictError):
        await client.assistants.create("nexa_research", assistant_id=assistant["assistant_id"])
    another = await client.assistants.create("nexa_research", name="another", context={"max_sections": 3})
    assert another["assistant_id"] != assistant["assistant_id"] and another["context"] == {"max_sections": 3}
    assert await client.assistants.count(graph_id="nexa_research") == 2
    await client.assistants.delete(another["assistant_id"])
    assert await client.assistants.count() == 1
    with pytest.raises(ConflictError):
        await client.assistants.delete(assistant["assistant_id"])


async def test_state_history_get_and_post_and_select(nexa_server, finished_thread):
    client = get_client(url=nexa_server.url)
    state = await client.threads.get_state(finished_thread)
    assert [s["title"] for s in state["values"]["report"]["sections"]] == TITLES
    posted = await client.threads.get_history(finished_thread, limit=3)
    got = await client.http.get(f"/threads/{finished_thread}/history", params={"limit": 3})
    assert [h["checkpoint"] for h in got] == [h["checkpoint"] for h in posted]
    assert posted[0]["checkpoint"] == state["checkpoint"]
    older = await client.http.get(f"/threads/{finished_thread}/history",
                                  params={"limit": 1, "before": posted[0]["checkpoint"]["checkpoint_id"]})
    assert older[0]["checkpoint"] == posted[1]["checkpoint"]
    selected = await client.http.post(f"/threads/{finished_thread}/history",
                                      json={"limit": 1, "select": ["checkpoint", "values.topic"]})
    assert selected == [{"checkpoint": state["checkpoint"], "values": {"topic": TOPIC}}]
    at = await client.threads.get_state(finished_thread, checkpoint=posted[1]["checkpoint"])
    assert at["checkpoint"] == posted[1]["checkpoint"]


async def test_copy_a_thread_with_its_history(nexa_server, finished_thread):
    client = get_client(url=nexa_server.url)
    copy = await client.threads.copy(finished_thread)
    assert copy["thread_id"] != finished_thread and copy["metadata"]["purpose"] == "studio"
    original = await client.threads.get_history(finished_thread, limit=100)
    copied = await client.threads.get_history(copy["thread_id"], limit=100)
    assert [h["checkpoint"]["checkpoint_id"] for h in copied] == [h["checkpoint"]["checkpoint_id"] for h in original]
    assert copied[0]["values"] == original[0]["values"]
    # The copy is a thread of its own: a new run on it continues from the copied state and leaves the original be.
    await client.threads.update_state(copy["thread_id"], {"topic": "A forked topic"}, as_node="collate")
    assert (await client.threads.get_state(finished_thread))["values"]["topic"] == TOPIC
    assert (await client.threads.get_state(copy["thread_id"]))["values"]["topic"] == "A forked topic"


async def test_thread_count_and_search_sort_and_select(nexa_server, finished_thread):
    client = get_client(url=nexa_server.url)
    assert await client.threads.count(metadata={"purpose": "studio"}) >= 1
    assert await client.threads.count(metadata={"purpose": "nothing of the kind"}) == 0
    found = await client.threads.search(metadata={"purpose": "studio"}, select=["thread_id", "status"],
                                        sort_by="created_at", sort_order="asc", limit=1)
    assert found == [{"thread_id": finished_thread, "status": "idle"}]


async def test_store_put_get_search_namespaces_and_delete(nexa_server):
    client = get_client(url=nexa_server.url)
    await client.store.put_item(("users", "ada", "facts"), "lang", {"name": "Python", "years": 10})
    await client.store.put_item(("users", "ada", "facts"), "editor", {"name": "vim", "years": 3})
    await client.store.put_item(("users", "ada", "prefs"), "tone", {"name": "plain", "years": 0})
    await client.store.put_item(("users", "bob", "facts"), "lang", {"name": "Go", "years": 2})
    item = await client.store.get_item(("users", "ada", "facts"), "lang")
    assert item["namespace"] == ["users", "ada", "facts"] and item["value"] == {"name": "Python", "years": 10}
    assert item["created_at"] and item["updated_at"]
    await client.store.put_item(("users", "ada", "facts"), "lang", {"name": "Python", "years": 11})
    again = await client.store.get_item(("users", "ada", "facts"), "lang")
    assert again["value"]["years"] == 11 and again["created_at"] == item["created_at"]
    ada = await client.store.search_items(("users", "ada"), limit=10)
    assert sorted(i["key"] for i in ada["items"]) == ["editor", "lang", "tone"]
    assert ada["items"][0]["key"] == "lang", "newest first"
    veterans = await client.store.search_items(("users",), filter={"years": {"$gte": 3}})
    assert sorted((tuple(i["namespace"]), i["key"]) for i in veterans["items"]) == [
        (("users", "ada", "facts"), "editor"), (("users", "ada", "facts"), "lang")]
    assert [i["key"] for i in (await client.store.search_items(("users",), filter={"name": "Go"}))["items"]] == ["lang"]
    listed = await client.store.list_namespaces(prefix=("users",))
    assert listed["namespaces"] == [["users", "ada", "facts"], ["users", "ada", "prefs"], ["users", "bob", "facts"]]
    assert (await client.store.list_namespaces(prefix=("users",), max_depth=2))["namespaces"] == [
        ["users", "ada"], ["users", "bob"]]
    assert (await client.store.list_namespaces(suffix=("facts",)))["namespaces"] == [
        ["users", "ada", "facts"], ["users", "bob", "facts"]]
    assert (await client.store.list_namespaces(prefix=("users", "*", "prefs")))["namespaces"] == [
        ["users", "ada", "prefs"]]
    await client.store.delete_item(("users", "ada", "facts"), "lang")
    assert await client.store.get_item(("users", "ada", "facts"), "lang") is None
    with pytest.raises(UnprocessableEntityError):
        await client.store.put_item(("users",), "bad", {"x": 1}, ttl=-1)


async def test_store_is_separate_per_api_key(nexa_server, server_env):
    mine = get_client(url=nexa_server.url)
    theirs = get_client(url=nexa_server.url, api_key=make_key(server_env["REDIS_URL"], "someone-else"))
    await mine.store.put_item(("private",), "secret", {"value": 42})
    assert await theirs.store.get_item(("private",), "secret") is None
    assert (await theirs.store.search_items(("private",)))["items"] == []
    assert (await theirs.store.list_namespaces())["namespaces"] == []
    assert (await mine.store.get_item(("private",), "secret"))["value"] == {"value": 42}


async def test_json_sent_as_text_plain_is_read_as_json(nexa_server, finished_thread):
    async with httpx.AsyncClient(base_url=nexa_server.url, headers=auth_headers(), timeout=30) as http:
        plain = {"content-type": "text/plain;charset=UTF-8"}
        found = await http.post("/threads/search", headers=plain, content=b'{"metadata": {"purpose": "studio"}}')
        assert found.status_code == 200 and finished_thread in [t["thread_id"] for t in found.json()]
        history = await http.post(f"/threads/{finished_thread}/history", headers=plain, content=b'{"limit": 2}')
        assert history.status_code == 200 and len(history.json()) == 2
        put = await http.put("/store/items", headers=plain,
                             content=b'{"namespace": ["plain"], "key": "k", "value": {"ok": true}}')
        assert put.status_code == 204
        broken = await http.post("/threads/search", headers=plain, content=b"not json")
        assert broken.status_code == 422


async def test_cors_preflight_and_answers_for_studio(nexa_server):
    async with httpx.AsyncClient(base_url=nexa_server.url, timeout=30) as http:
        asked = {"origin": STUDIO, "access-control-request-method": "POST",
                 "access-control-request-headers": "x-api-key,content-type",
                 "access-control-request-private-network": "true"}
        preflight = await http.options("/threads/search", headers=asked)  # no key: browsers send none here
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == STUDIO
        assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
        assert preflight.headers["access-control-allow-private-network"] == "true"
        answer = await http.get("/assistants/nexa_research", headers={"origin": STUDIO, **auth_headers()})
        assert answer.headers["access-control-allow-origin"] == STUDIO
        assert "location" in answer.headers["access-control-expose-headers"].lower()
        stranger = await http.options("/threads/search", headers={**asked, "origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in stranger.headers
