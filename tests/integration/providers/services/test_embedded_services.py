"""Runs on the shared embedded Redis: processes do not break each other, a lost Redis is a clear and resumable
error, and a machine that was not set up is told to run `nexa setup` instead of being installed to behind its back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nexa_research import Report, aresearch
from nexa_research.providers import InMemorySearch
from nexa_research.providers.services import openssl
from nexa_research.providers.services.openssl import SetupRequiredError
from nexa_research.providers.services.redis_folder import read_record, server_pids
from nexa_research.providers.services.redis_server import RedisConnectionLostError, ping
from support.paths import SUPPORT
from support.redis_fixtures import service_processes
from support.scripted_models import corpus_for, providers_for

pytestmark = pytest.mark.redis
WORKER = SUPPORT / "shared_redis_worker.py"
PACKAGE_FOLDERS = ("graph", "nodes", "providers", "server")


def _events(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _wait_for_gated_search(proc: subprocess.Popen[str], log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not any(e["kind"] == "search" and "gated" in e["section"] for e in _events(log)):
        if proc.poll() is not None:
            pytest.fail(f"worker ended early: {proc.communicate()[1][-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"worker never reached its gated search: {_events(log)}")
        time.sleep(0.05)


def test_killing_the_process_that_started_redis_leaves_other_runs_going(embedded_data_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false"}
    folder = embedded_data_dir / "redis"

    def worker(name: str) -> subprocess.Popen[str]:
        args = [sys.executable, str(WORKER), f"{name}-{time.time_ns()}", str(tmp_path / f"{name}.jsonl"),
                str(tmp_path / f"{name}.gate")]  # fmt: skip
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    starter = worker("starter")
    _wait_for_gated_search(starter, tmp_path / "starter.jsonl")
    record = read_record(folder)
    assert record is not None
    other = worker("other")
    _wait_for_gated_search(other, tmp_path / "other.jsonl")  # mid-run: plan and finished sections checkpointed

    starter.send_signal(signal.SIGKILL)
    starter.wait(timeout=10)
    time.sleep(0.5)
    assert ping(record.url), "Redis died with the process that started it"
    (tmp_path / "other.gate").touch()
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err[-3000:]
    report = Report.from_json(out.strip().splitlines()[-1])
    assert [s.status for s in report.sections] == ["done"] * 3
    assert server_pids(folder) == [record.pid]  # one server all along


class GatedSearch(InMemorySearch):
    """Holds the search of one section until `gate` is set, counting the searches of the others."""

    def __init__(self, docs: list[dict[str, str]], held: str) -> None:
        super().__init__(docs)
        self.held, self.gate, self.calls = held, asyncio.Event(), []

    async def search(self, query, k, filters=None):
        self.calls.append(query)
        if self.held in query:
            await self.gate.wait()
        return await super().search(query, k, filters)


async def test_redis_lost_mid_run_is_a_clear_error_and_the_thread_resumes(
    embedded_data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NEXA_CHECKPOINTER", "redis")
    titles = ["Alpha origins", "Beta spread", "Gamma held effects"]
    providers = providers_for(titles)
    search = providers._search = GatedSearch(corpus_for(titles), held="Gamma")
    synth = providers._chat["synthesizer"]
    thread_id = f"lost-{time.time_ns()}"
    run = asyncio.create_task(aresearch("The printing press", providers=providers, thread_id=thread_id,
                                        max_iterations=1))  # fmt: skip
    for _ in range(600):
        if len(synth.calls) >= 2 or run.done():
            break
        await asyncio.sleep(0.05)
    assert len(synth.calls) >= 2, run.exception() if run.done() else synth.calls
    await asyncio.sleep(0.3)  # the finished sections' writes land
    record = read_record(embedded_data_dir / "redis")
    os.kill(record.pid, signal.SIGKILL)  # type: ignore[union-attr]
    while server_pids(embedded_data_dir / "redis"):
        await asyncio.sleep(0.05)
    search.gate.set()

    with pytest.raises(RedisConnectionLostError) as caught:
        await run
    error = caught.value
    assert error.thread_id == thread_id and error.url == record.url  # type: ignore[union-attr]
    assert f"resume the run with thread_id='{thread_id}'" in str(error) and "checkpoints" in str(error)
    assert not [r for r in caplog.records if r.exc_info], "a raw traceback was logged besides the clear error"

    planned = len(providers._chat["planner"].calls)
    search.calls = []
    report = await aresearch("The printing press", providers=providers, thread_id=thread_id)
    assert [s.status for s in report.sections] == ["done"] * 3
    assert len(providers._chat["planner"].calls) == planned  # the plan came from the checkpoint
    assert search.calls and all("Gamma" in q for q in search.calls), search.calls  # finished sections stayed done


async def test_a_run_on_a_machine_not_set_up_says_to_run_nexa_setup_and_installs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXA_DATA_DIR", str(tmp_path))  # no openssl11/ here
    monkeypatch.setenv("NEXA_CHECKPOINTER", "redis")
    monkeypatch.setattr(openssl, "_system_has", lambda soname: False)  # a system without libssl1.1
    spawned: list[object] = []

    def refuse(args: object, *rest: object, **kwargs: object) -> None:
        spawned.append(args)
        raise AssertionError(f"a library call started a process: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    providers = providers_for(["Alpha origins", "Beta spread", "Gamma effects"])
    with pytest.raises(SetupRequiredError) as caught:
        await aresearch("The printing press", providers=providers)
    message = str(caught.value)
    assert "libssl.so.1.1" in message and "Run `nexa setup`" in message and str(tmp_path / "openssl11") in message
    assert spawned == []
    assert not (tmp_path / "openssl11").exists() and service_processes(tmp_path) == []
    assert not providers._chat["planner"].calls


