"""A thread's stream: the events of every run on the thread, one after another, and its state updates.

`GET /threads/{id}/stream` (langgraph_sdk's `threads.join_stream`, the JS SDK's `threads.joinStream`) stays open
until the client leaves, as LangGraph's server does: it follows each run's event log (server/event_log.py) as the
runs come, tells each run's end with `metadata` {"status": "run_done", "run_id"}, and sends `state_update`
{"state", "thread_id"} when a client edits the thread's state. Those updates go to a log of the thread's own in
Redis, so any API process serves them.

Every log is a Redis stream whose entry ids come from one Redis clock, so one id orders events across logs: the
SSE `id:` of each event is its entry id, and a client coming back with `Last-Event-ID` reads every log after
that id. Without it, the stream starts now: runs already finished are not replayed, a run in progress is joined
at its next event, and runs created later are read from their first event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from nexa_research.server.event_log import END_EVENT, LoggedEvent, log_key, logged_event, stream_position
from nexa_research.server.records import FINAL_STATUSES, PREFIX, RecordStore

THREAD_STREAM_MODES = ("run_modes", "lifecycle", "state_update")
STATE_UPDATE = "state_update"
READ_BATCH = 100
MAX_STATE_UPDATES = 1000  # a thread's log keeps its latest updates only


def thread_log_key(thread_id: str) -> str:
    return f"{PREFIX}:thread:{thread_id}:events"


async def publish_state_update(redis: Redis, thread_id: str, state: dict[str, Any], retention_seconds: int) -> None:
    """Tell the thread's stream that its state was edited (the new state, as `GET /threads/{id}/state` shows it)."""
    key = thread_log_key(thread_id)
    data = orjson.dumps({"state": state, "thread_id": thread_id})
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xadd(key, {"event": STATE_UPDATE, "data": data}, maxlen=MAX_STATE_UPDATES, approximate=True)
        pipe.expire(key, retention_seconds)
        await pipe.execute()


@dataclass
class _Followed:
    """A log being read: where the read is, and the run it belongs to (None: the thread's own log)."""

    cursor: str
    run_id: str | None


class ThreadStream:
    """Follows a thread's logs; `events()` yields what the chosen modes ask for, None at each quiet `block_ms`."""

    def __init__(self, redis: Redis, store: RecordStore, thread_id: str, modes: list[str], after: str | None) -> None:
        self.redis, self.store, self.thread_id = redis, store, thread_id
        self.modes = set(modes)
        self.after = after  # None: from now on
        self._logs: dict[str, _Followed] = {}
        self._done: set[str] = set()

    async def events(self, block_ms: int) -> AsyncIterator[LoggedEvent | None]:
        start = self.after if self.after is not None else await self._now()
        self._logs[thread_log_key(self.thread_id)] = _Followed(start, None)
        known = set(await self.store.run_ids(self.thread_id))
        for run_id in known:
            self._logs[log_key(run_id)] = _Followed(start, run_id)
        while True:
            await self._drop_finished()
            batch: Any = await self.redis.xread({k: f.cursor for k, f in self._logs.items()}, block=block_ms,
                                                count=READ_BATCH)
            if not batch:
                yield None
            for event in self._in_order(batch or []):
                if self._wanted(event):
                    yield event
            for run_id in await self.store.run_ids(self.thread_id):
                if run_id not in known:  # a run created since: all of its events are new
                    known.add(run_id)
                    self._logs[log_key(run_id)] = _Followed("0", run_id)

    def _in_order(self, batch: list[Any]) -> list[LoggedEvent]:
        """The entries read, in id order across the logs, and only up to where every log was read in full: a log
        that filled its batch may hold earlier entries than another log's last, which come in the next read."""
        entries: list[tuple[tuple[int, int], str, LoggedEvent]] = []
        limit: tuple[int, int] | None = None
        for key, rows in batch:
            key = key.decode() if isinstance(key, bytes) else key
            read = [logged_event(entry_id, fields) for entry_id, fields in rows]
            entries += [(stream_position(e.id), key, e) for e in read]
            if len(rows) >= READ_BATCH and (limit is None or stream_position(read[-1].id) < limit):
                limit = stream_position(read[-1].id)
        out = []
        for order, key, event in sorted(entries, key=lambda item: item[0]):
            if limit is not None and order > limit:
                break
            followed = self._logs[key]
            followed.cursor = event.id
            if event.event == END_EVENT:
                assert followed.run_id is not None
                self._done.add(key)
                event = LoggedEvent(event.id, "metadata", orjson.dumps(
                    {"status": "run_done", "run_id": followed.run_id}).decode())
            out.append(event)
        return out

    def _wanted(self, event: LoggedEvent) -> bool:
        if event.event == STATE_UPDATE:
            return STATE_UPDATE in self.modes
        if "run_modes" in self.modes:
            return True
        if "lifecycle" in self.modes and event.event == "metadata":
            data = orjson.loads(event.data)
            return data.get("status") == "run_done" or {"run_id", "attempt"} <= set(data)
        return False

    async def _drop_finished(self) -> None:
        """Stop reading runs whose log ended, and finished runs with nothing left to read after the cursor (their
        end came before the stream's start, or their log expired). A finished run whose log has not ended yet is
        kept: the worker records the final status a few Redis calls before it writes the end marker, and a reader
        that dropped the run in between never told its end (a JS SDK client waited for `run_done` until killed)."""
        for key in list(self._logs):
            followed = self._logs[key]
            if key in self._done:
                del self._logs[key]
                continue
            if followed.run_id is None:
                continue
            run = await self.store.get_run(followed.run_id)
            if run is not None and run["status"] not in FINAL_STATUSES:
                continue
            last: Any = await self.redis.xrevrange(key, count=1)
            newest = logged_event(*last[0]) if last else None
            if newest is not None and (stream_position(newest.id) > stream_position(followed.cursor)
                                       or newest.event != END_EVENT):
                continue  # entries left to read, or its end marker is on its way
            del self._logs[key]

    async def _now(self) -> str:
        """An entry id for "now" on the Redis clock every log's ids come from."""
        seconds, micros = await self.redis.time()
        return f"{int(seconds) * 1000 + int(micros) // 1000}-0"


def parse_thread_modes(values: list[str]) -> list[str]:
    """Modes as the SDKs send them (repeated, or comma-separated); `run_modes` when none. ValueError names a bad one."""
    modes = [m.strip() for v in values for m in v.split(",") if m.strip()]
    for mode in modes:
        if mode not in THREAD_STREAM_MODES:
            raise ValueError(f"unknown mode {mode!r}; modes are {', '.join(THREAD_STREAM_MODES)}")
    return modes or ["run_modes"]


def resume_point(last_event_id: str | None) -> str | None:
    """Where a thread stream starts: after `Last-Event-ID`, from the beginning for '-' (or '-1', '0'), else now."""
    if not last_event_id:
        return None
    if last_event_id in ("-", "-1", "0"):
        return "0"
    stream_position(last_event_id)  # ValueError when it is not an entry id
    return last_event_id
