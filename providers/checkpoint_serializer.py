"""The checkpoint serializer with a fast path for plain JSON, which is nearly all of a research run's state.

langgraph-checkpoint-redis serializes every checkpoint and pending write through
`JsonPlusRedisSerializer._preprocess_redis_json`, a recursive walk that asks each value, one `isinstance` after
another, whether it is bytes, an Interrupt, a delta snapshot, a Send, a set or a dataclass before treating it as a
dict or list. A run's state is sections, sources and texts: plain dicts, lists and strings, thousands of values
per checkpoint, and a 3-section run writes about 23 checkpoints and 70 pending writes. Measured in one process (25
runs at once on bench_server's simulated providers, Redis checkpointer, `time.process_time`): 70 ms of CPU per run
with the library's walk, 58 ms with this one (bench/server.md).

Plain containers and scalars are recognised by their exact type and walked here; anything else (including dict
or list subclasses) goes to the library's own method, so the stored documents are the same byte for byte
(tests/test_checkpointer.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.checkpoint.redis.jsonplus_redis import JsonPlusRedisSerializer

_SCALARS = frozenset({str, int, float, bool, type(None)})


class FastJsonRedisSerializer(JsonPlusRedisSerializer):
    """`JsonPlusRedisSerializer` whose preprocessing returns plain scalars at once and walks plain dicts and lists
    itself; every other type takes the library's path."""

    def _preprocess_redis_json(self, obj: Any, *, encode_bytes: Callable[[bytes], Any] | None = None) -> Any:
        kind = type(obj)
        if kind in _SCALARS:
            return obj
        if kind is dict:
            return {
                k: v if type(v) in _SCALARS else self._preprocess_redis_json(v, encode_bytes=encode_bytes)
                for k, v in obj.items()
            }
        if kind is list:
            return [v if type(v) in _SCALARS else self._preprocess_redis_json(v, encode_bytes=encode_bytes) for v in obj]
        return super()._preprocess_redis_json(obj, encode_bytes=encode_bytes)
