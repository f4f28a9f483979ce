"""The event log's write path: each event is JSON text in the run's stream, read back as the value it was."""

from __future__ import annotations

import json
from typing import Any

import pytest
from redis.asyncio import Redis

from nexa_research.server.event_log import EventLog, log_key


async def test_an_event_reads_back_as_its_value_and_text_is_stored_as_given(redis: Redis) -> None:
    log = EventLog(redis)
    value = {"topic": "Gutenberg’s press", "n": 2**70, "nested": [{"score": 0.5, "none": None}]}

    first_id = await log.append("r1", "values", value)
    await log.append("r1", "custom", '{"already": "text"}')

    (stored_id, first), (_, second) = await redis.xrange(log_key("r1"))
    assert stored_id.decode() == first_id
    assert json.loads(first[b"data"]) == value  # 2**70 is past orjson's integers: json writes it
    assert first[b"event"] == b"values"
    assert json.loads(second[b"data"]) == {"already": "text"}


@pytest.mark.parametrize("value", [{"a": [1, 2.5, True, None, "é"]}, [{"x": {"y": []}}], 3])
async def test_event_data_is_json_text(redis: Redis, value: Any) -> None:
    await EventLog(redis).append("r2", "values", value)

    [(_, fields)] = await redis.xrange(log_key("r2"))
    assert json.loads(fields[b"data"]) == value
