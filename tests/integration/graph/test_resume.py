"""Checkpointed to a real Redis Stack: a killed or failed run resumes without redoing finished sections."""

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

from nexa_research import PlanReviewPending, Report, aresearch, aresume
from nexa_research.errors import ResearchInputError
from nexa_research.providers import InMemorySearch
from support.paths import SUPPORT
from support.scripted_models import corpus_for, providers_for

pytestmark = pytest.mark.redis
WORKER = SUPPORT / "resume_worker.py"
TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


@pytest.fixture
def redis_env(monkeypatch, redis_stack_url):
    monkeypatch.setenv("REDIS_URL", redis_stack_url)
    monkeypatch.setenv("NEXA_CHECKPOINTER", "redis")
    return redis_stack_url


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _worker(thread_id: str, log: Path, mode: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), thread_id, str(log), mode], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_mid_run_then_resume_redoes_no_finished_section(redis_env, tmp_path):
    env = {**os.environ, "REDIS_URL": redis_env, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false"}
    thread_id, first_log, second_log = f"kill-{time.time_ns()}", tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    proc = _worker(thread_id, first_log, "first", env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events = _events(first_log)
        done = {e["section"] for e in events if e["kind"] == "done"}
        searching = {e["section"] for e in events if e["kind"] == "search" and "slow" in e["section"]}
        if done >= {"Alpha origins", "Beta spread"} and len(searching) == 2:
            break
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail(f"the run never reached the kill point: {_events(first_log)}")
    time.sleep(0.3)  # let the finished branches' writes land, as they would before a real crash
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    resumed = _worker(thread_id, second_log, "resume", env)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    report = Report.from_json(out.strip().splitlines()[-1])
    assert [s.status for s in report.sections] == ["done"] * 4
    second = _events(second_log)
    assert not [e for e in second if e["section"] in ("Alpha origins", "Beta spread")], second
    assert not [e for e in second if e.get("role") == "planner"], "the plan was redone"
    assert {e["section"] for e in second if e["kind"] == "search"} == {"Gamma slow effects", "Delta slow legacy"}


class FailOnce(InMemorySearch):
    """Raises a bug-type error for one section on the first run only, once the other sections are written
    (a failure cancels branches still in flight, and those rightly run again on resume)."""

    def __init__(self, docs, poison: str, others_done) -> None:
        super().__init__(docs)
        self.poison, self.armed, self.calls, self.others_done = poison, True, [], others_done

    async def search(self, query, k, filters=None):
        self.calls.append(query)
        if self.armed and self.poison in query:
            for _ in range(200):
                if self.others_done():
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)  # the finished branches hand back their writes
            raise RuntimeError("backend bug")
        return await super().search(query, k, filters)


async def test_resume_after_an_exception_in_one_branch(redis_env):
    providers = providers_for(TITLES)
    synth = providers._chat["synthesizer"]
    search = FailOnce(corpus_for(TITLES), "Effects", others_done=lambda: len(synth.calls) >= 2)
    providers._search = search
    thread_id = f"exc-{time.time_ns()}"
    with pytest.raises(RuntimeError, match="backend bug"):
        await aresearch("The printing press", providers=providers, thread_id=thread_id, max_iterations=1)
    planner_calls = len(providers._chat["planner"].calls)
    search.armed, search.calls = False, []
    report = await aresearch("The printing press", providers=providers, thread_id=thread_id)
    assert [s.status for s in report.sections] == ["done"] * 3
    assert len(providers._chat["planner"].calls) == planner_calls
    assert all("Effects" in q for q in search.calls), search.calls
    # the finished thread answers from its checkpoint, calling nothing
    again = await aresearch("The printing press", providers=providers, thread_id=thread_id)
    assert again == report and all("Effects" in q for q in search.calls)


async def test_plan_review_pause_survives_processes_and_resumes(redis_env, tmp_path):
    providers = providers_for(TITLES)
    thread_id = f"review-{time.time_ns()}"
    with pytest.raises(PlanReviewPending):
        await aresearch("The printing press", providers=providers, thread_id=thread_id, review_plan=True, max_iterations=1)
    # another process sees the paused thread
    probe = (
        "import asyncio, json\n"
        "from nexa_research.threads import thread_status\n"
        f"print(json.dumps(asyncio.run(thread_status({thread_id!r}))))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env={**os.environ, "REDIS_URL": redis_env, "NEXA_CHECKPOINTER": "redis"}, timeout=60)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["status"] == "waiting for plan review" and status["sections"] == 3
    report = await aresume(thread_id, resume="approve", providers=providers)
    assert [s.title for s in report.sections] == TITLES


async def test_a_thread_holds_one_topic(redis_env):
    providers = providers_for(TITLES)
    thread_id = f"topic-{time.time_ns()}"
    await aresearch("The printing press", providers=providers, thread_id=thread_id, max_iterations=1)
    with pytest.raises(ResearchInputError, match="holds a run on 'The printing press'"):
        await aresearch("Steam engines", providers=providers, thread_id=thread_id)
    with pytest.raises(ResearchInputError, match="no run is stored"):
        await aresume("no-such-thread", providers=providers)


async def test_redis_without_modules_gets_the_clear_error(monkeypatch, plain_redis_url):
    from nexa_research.providers.services.redis_server import RedisModulesMissingError

    monkeypatch.setenv("REDIS_URL", plain_redis_url)
    monkeypatch.setenv("NEXA_CHECKPOINTER", "redis")
    providers = providers_for(TITLES)
    with pytest.raises(RedisModulesMissingError, match="RedisJSON/RediSearch"):
        await aresearch("The printing press", providers=providers)
    assert not providers._chat["planner"].calls


async def test_time_travel_replays_from_an_earlier_checkpoint(redis_env):
    from nexa_research.threads import thread_history

    providers = providers_for(TITLES)
    thread_id = f"travel-{time.time_ns()}"
    first = await aresearch("The printing press", providers=providers, thread_id=thread_id, max_iterations=1)
    steps = await thread_history(thread_id)
    assert all(s["source"] for s in steps) and steps[-1]["source"] == "input"
    after_plan = next(s["checkpoint_id"] for s in steps if s["next"] == ["review_plan"])
    synth_calls = len(providers._chat["synthesizer"].calls)
    replay = await aresume(thread_id, checkpoint_id=after_plan, providers=providers)
    assert [s.title for s in replay.sections] == [s.title for s in first.sections]
    assert len(providers._chat["planner"].calls) == 1  # the plan came from the checkpoint
    assert len(providers._chat["synthesizer"].calls) == synth_calls + 3  # research ran again from there
