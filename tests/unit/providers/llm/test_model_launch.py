"""Which shared model host a process asks for (its spec and folder), without starting one (tests/integration does)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from nexa_research.providers.llm.model_folder import HostRecord
from nexa_research.providers.llm.model_launch import (
    LocalServerSpec,
    hosts_root,
    live_hosts,
    machine_cores,
    stop_host,
    stop_hosts,
)
from nexa_research.providers.settings import ProviderSettings
from support.local_llm_fixtures import write_tiny_gguf


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_tiny_gguf(tmp_path / "tiny.gguf")  # trained context 2048


def test_unset_sizes_follow_the_machine_so_every_process_asks_for_the_same(model: Path) -> None:
    spec = LocalServerSpec.from_settings(ProviderSettings(local_model=model, local_ctx=1024))
    cores = machine_cores()
    assert spec == LocalServerSpec(model.resolve(), 1024, min(16, 4 * cores), cores)
    assert cores == len(os.sched_getaffinity(0))


def test_settings_win_and_the_context_is_capped_at_the_trained_one(model: Path) -> None:
    spec = LocalServerSpec.from_settings(ProviderSettings(local_model=model, local_parallel=3, local_threads=5))
    assert (spec.ctx_per_slot, spec.parallel, spec.threads) == (2048, 3, 5)


def test_one_folder_per_spec(model: Path, tmp_path: Path) -> None:
    spec = LocalServerSpec(model.resolve(), 1024, 8, 2)
    root = tmp_path / "local-llm"
    folder = spec.folder(root)
    assert folder.parent == root and folder.name.startswith("tiny-")
    assert LocalServerSpec(model.resolve(), 1024, 8, 2).folder(root) == folder
    others = [replace(spec, ctx_per_slot=2048), replace(spec, parallel=4), replace(spec, threads=1),
              replace(spec, model_path=write_tiny_gguf(tmp_path / "other.gguf"))]  # fmt: skip
    assert len({o.folder(root) for o in others} | {folder}) == 5


def test_a_model_file_replaced_in_place_gets_another_host(model: Path, tmp_path: Path) -> None:
    spec = LocalServerSpec(model.resolve(), 1024, 8, 2)
    before = spec.folder(tmp_path)
    write_tiny_gguf(model, name="Another Tiny Model")
    os.utime(model, ns=(1, 1))  # whatever the clock's resolution, the date differs
    assert spec.folder(tmp_path) != before


def test_a_record_is_served_only_to_its_own_spec(model: Path) -> None:
    spec = LocalServerSpec(model.resolve(), 1024, 8, 2)
    record = HostRecord(pid=1, url="http://127.0.0.1:1", api_key="k", model=str(model.resolve()), ctx_per_slot=1024,
                        parallel=8, threads=2, idle_minutes=10, started_at=0)  # fmt: skip
    assert spec.served_by(record)
    assert not spec.served_by(replace(record, parallel=4))
    assert not spec.served_by(replace(record, model="/models/other.gguf"))


def test_idle_minutes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ProviderSettings.load().local_idle_minutes == 10.0
    monkeypatch.setenv("NEXA_LOCAL_IDLE_MINUTES", "0")
    assert ProviderSettings.load().local_idle_minutes == 0.0
    monkeypatch.setenv("NEXA_LOCAL_IDLE_MINUTES", "-1")
    with pytest.raises(ValueError, match="NEXA_LOCAL_IDLE_MINUTES"):
        ProviderSettings.load()


def test_nothing_to_stop_or_list_where_no_host_ever_ran(tmp_path: Path) -> None:
    root = hosts_root(ProviderSettings(data_dir=tmp_path))
    assert root == tmp_path.resolve() / "local-llm"
    assert live_hosts(root) == [] and stop_hosts(root) == []
    assert stop_host(root / "missing") is None
    (root / "empty").mkdir(parents=True)
    (root / "empty" / "host.lock").touch()
    assert stop_hosts(root) == []
