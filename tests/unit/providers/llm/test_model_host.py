"""The shared model host's idle rule and watch, on a record in a temporary folder (no llama.cpp: metrics are given)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from nexa_research.providers.llm.model_folder import (
    LOCK,
    HostRecord,
    LockTimeout,
    locked,
    note_lookup,
    read_record,
    remove_record,
    write_record,
)
from nexa_research.providers.llm.model_host import poll_seconds, watch

IDLE_MINUTES = 0.002  # 0.12 s
RECORD = HostRecord(pid=4321, url="http://127.0.0.1:40123", api_key="key", model="/models/m.gguf", ctx_per_slot=512,
                    parallel=2, threads=1, idle_minutes=IDLE_MINUTES, started_at=1.5e9)  # fmt: skip


@pytest.fixture(autouse=True)
def lock_file(tmp_path: Path) -> None:
    """The starter makes the lock file before the host starts; its date is the last lookup."""
    (tmp_path / LOCK).touch()


def short_sleep(seconds: float) -> None:
    time.sleep(0.02)  # the watch's real poll is 0.5 s at least


class Stops:
    """The `stop` callback: records why, and whether the record was gone and the folder locked at that moment."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.calls = folder, []

    def __call__(self, reason: str) -> None:
        try:
            with locked(self.folder, exclusive=False, timeout=0):
                held = False
        except LockTimeout:
            held = True
        self.calls.append((reason, read_record(self.folder), held, time.monotonic()))


def busy_then_quiet(busy: list[dict[str, float]]) -> tuple[Callable[[], dict[str, float]], list[float]]:
    """A metrics source giving `busy` samples in turn, then a quiet one forever; and when the last busy one was read."""
    pending, last_busy = list(busy), [time.monotonic()]

    def sample() -> dict[str, float]:
        if pending:
            last_busy[0] = time.monotonic()
            return pending.pop(0)
        return {"llamacpp:n_decode_total": 99.0}

    return sample, last_busy


def test_an_idle_host_removes_its_record_and_stops_under_the_exclusive_lock(tmp_path: Path) -> None:
    write_record(tmp_path, RECORD)
    stops = Stops(tmp_path)
    reason = watch(tmp_path, RECORD, lambda: {}, stops, sleep=short_sleep)
    assert reason == f"stopped after {IDLE_MINUTES:g} idle minutes"
    assert [(r, rec, held) for r, rec, held, _ in stops.calls] == [(reason, None, True)]


@pytest.mark.parametrize("busy", [
    [{"llamacpp:requests_processing": 1.0}] * 12,  # one long request in flight
    [{"llamacpp:requests_deferred": 2.0}] * 12,  # requests waiting for a slot
    [{"llamacpp:n_decode_total": float(n)} for n in range(12)],  # short requests answered between looks
], ids=["in-flight", "waiting", "answered"])  # fmt: skip
def test_requests_keep_the_host_up_for_the_idle_period_after_the_last_one(tmp_path: Path, busy) -> None:
    write_record(tmp_path, RECORD)
    stops = Stops(tmp_path)
    sample, last_busy = busy_then_quiet(busy)
    watch(tmp_path, RECORD, sample, stops, sleep=short_sleep)
    assert len(stops.calls) == 1
    assert stops.calls[0][3] - last_busy[0] >= IDLE_MINUTES * 60 * 0.99


def test_a_lookup_counts_as_use(tmp_path: Path) -> None:
    write_record(tmp_path, RECORD)
    stops = Stops(tmp_path)
    lookups = iter(range(12))

    def sleep_then_look_up(seconds: float) -> None:
        short_sleep(seconds)
        if next(lookups, None) is not None:
            note_lookup(tmp_path)
            lookups_done.append(time.monotonic())

    lookups_done: list[float] = []
    watch(tmp_path, RECORD, lambda: {}, stops, sleep=sleep_then_look_up)
    assert len(lookups_done) == 12
    assert stops.calls[0][3] - lookups_done[-1] >= IDLE_MINUTES * 60 * 0.99


def test_a_lookup_holding_the_lock_postpones_the_stop(tmp_path: Path) -> None:
    write_record(tmp_path, RECORD)
    stops = Stops(tmp_path)
    released = threading.Event()

    def look_up() -> None:
        with locked(tmp_path, exclusive=False, timeout=1):
            time.sleep(1.5)  # longer than the watch waits for the lock
            released.set()

    thread = threading.Thread(target=look_up)
    thread.start()
    time.sleep(0.05)
    watch(tmp_path, RECORD, lambda: {}, stops, sleep=short_sleep)
    thread.join()
    assert released.is_set() and len(stops.calls) == 1


@pytest.mark.parametrize("idle_minutes", [IDLE_MINUTES, 0.0], ids=["idle-stop", "no-idle-stop"])
@pytest.mark.parametrize("change", ["removed", "replaced"])
def test_the_watch_ends_without_stopping_when_its_record_is_gone(tmp_path: Path, idle_minutes, change) -> None:
    """`nexa services stop` removes the record and signals the host; a host left without its record must not stay."""
    record = replace(RECORD, idle_minutes=idle_minutes)
    write_record(tmp_path, record)
    stops = Stops(tmp_path)

    def busy() -> dict[str, float]:
        return {"llamacpp:requests_processing": 1.0}

    def sleep_then_change(seconds: float) -> None:
        short_sleep(seconds)
        if change == "removed":
            remove_record(tmp_path)
        else:
            write_record(tmp_path, replace(record, pid=record.pid + 1))

    reason = watch(tmp_path, record, busy, stops, sleep=sleep_then_change)
    assert reason.startswith("its record was removed or replaced") and stops.calls == []


def test_poll_period_is_a_tenth_of_the_idle_period_within_bounds() -> None:
    assert poll_seconds(0.06) == 0.5
    assert poll_seconds(60.0) == 6.0
    assert poll_seconds(3600.0) == 30.0
