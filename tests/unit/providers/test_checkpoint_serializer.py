"""The checkpoint serializer: a faster path for plain JSON that writes what the library's serializer writes."""

from __future__ import annotations


def test_the_fast_serializer_writes_the_same_documents_as_the_librarys():
    """providers/checkpoint_serializer.py only skips the library's per-value type checks for plain JSON; anything
    else takes the library's path, so every document is byte for byte the same."""
    import dataclasses

    from langgraph.checkpoint.redis.jsonplus_redis import JsonPlusRedisSerializer
    from langgraph.types import Interrupt, Send

    from nexa_research.providers.checkpoint_serializer import FastJsonRedisSerializer

    @dataclasses.dataclass
    class Note:
        text: str
        tags: list[str]

    class Tagged(dict):
        pass

    state = {
        "topic": "The printing press", "n": 3, "score": 0.5, "ok": True, "none": None,
        "paragraphs": [{"title": "Gutenberg", "research": [{"url": "u", "text": "t" * 50, "score": 0.7}], "tags": ("a", 1)}],
        "sends": [Send("research_paragraph", {"topic": "x", "paragraph": {"index": 0}})],
        "interrupt": [Interrupt(value={"plan": ["a", "b"]}, id="i1")],
        "set": {"x"}, "note": Note("n", ["a"]), "tagged": Tagged(a=[1, {"b": 2}]), "raw": {"blob": b"\x00\x01"},
    }
    fast, library = FastJsonRedisSerializer(), JsonPlusRedisSerializer()
    assert fast.dumps_typed(state) == library.dumps_typed(state)
    for value in (state["paragraphs"], "text", 3, None, [1, [2, [3]]], {"a": {"b": {"c": [{}]}}}):
        assert fast.dumps_typed(value) == library.dumps_typed(value)
    kind, data = fast.dumps_typed(state["sends"])
    assert fast.loads_typed((kind, data))[0].node == "research_paragraph"  # and it reads back as a Send
