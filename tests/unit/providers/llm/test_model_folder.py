"""The shared model host's record and lock in its data folder, without a host (tests/integration starts one)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nexa_research.providers.llm.model_folder import (
    RECORD,
    HostRecord,
    LockTimeout,
    host_pids,
    hosts_folder,
    in_flight,
    last_lookup,
    locked,
    note_lookup,
    parse_metrics,
    read_record,
    remove_record,
    write_record,
)

RECORD_VALUES = HostRecord(pid=4321, url="http://127.0.0.1:40123", api_key="s3cret-key", model="/models/m.gguf",
                           ctx_per_slot=8192, parallel=8, threads=2, idle_minutes=10.0, started_at=1.5e9)  # fmt: skip


def test_record_round_trip_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    write_record(tmp_path, RECORD_VALUES)
    assert read_record(tmp_path) == RECORD_VALUES
    assert stat.S_IMODE((tmp_path / RECORD).stat().st_mode) == 0o600, "the record holds the API key"
    assert RECORD_VALUES.port == 40123
    assert "s3cret-key" not in repr(RECORD_VALUES)
    assert [p.name for p in tmp_path.iterdir()] == [RECORD], "no partial file is left behind"
    remove_record(tmp_path)
    assert read_record(tmp_path) is None
    remove_record(tmp_path)  # twice is fine


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", '{"pid": 1, "port": 2, "url": "redis://x"}'])
def test_what_is_not_a_record_reads_as_none(tmp_path: Path, text: str) -> None:
    (tmp_path / RECORD).write_text(text)
    assert read_record(tmp_path) is None


def test_an_exclusive_lock_keeps_lookups_waiting_and_a_shared_one_does_not(tmp_path: Path) -> None:
    with locked(tmp_path, exclusive=False, timeout=1), locked(tmp_path, exclusive=False, timeout=1):
        with pytest.raises(LockTimeout, match="host.lock stayed locked"):
            with locked(tmp_path, exclusive=True, timeout=0.2):
                pass
    with locked(tmp_path, exclusive=True, timeout=1):
        with pytest.raises(LockTimeout):
            with locked(tmp_path, exclusive=False, timeout=0.2):
                pass
    with locked(tmp_path, exclusive=True, timeout=0.2):  # released when the holders left
        pass


def test_the_last_lookup_is_the_date_of_the_lock_file(tmp_path: Path) -> None:
    with locked(tmp_path, exclusive=False, timeout=1):
        note_lookup(tmp_path)
    first = last_lookup(tmp_path)
    os.utime(tmp_path / "host.lock", (first - 100, first - 100))
    assert last_lookup(tmp_path) == first - 100
    with locked(tmp_path, exclusive=True, timeout=1):
        assert last_lookup(tmp_path) == first - 100, "taking the lock is not a lookup"
        note_lookup(tmp_path)
    assert last_lookup(tmp_path) >= first


def test_a_process_that_is_not_a_host_of_the_folder_is_not_taken_for_one(tmp_path: Path) -> None:
    assert not hosts_folder(os.getpid(), tmp_path)  # alive, but this test runner
    assert not hosts_folder(2**22 + 7, tmp_path)  # no such pid
    assert host_pids(tmp_path) == []


def test_metrics_text_and_requests_in_flight() -> None:
    text = (
        "# HELP llamacpp:requests_processing Number of requests processing\n"
        "# TYPE llamacpp:requests_processing gauge\n"
        "llamacpp:requests_processing 2\n"
        "llamacpp:requests_deferred 3\n"
        "llamacpp:n_decode_total 1234\n"
        "\n"
    )
    metrics = parse_metrics(text)
    assert metrics == {"llamacpp:requests_processing": 2.0, "llamacpp:requests_deferred": 3.0,
                       "llamacpp:n_decode_total": 1234.0}  # fmt: skip
    assert in_flight(metrics) == 5
    assert in_flight({}) == 0
