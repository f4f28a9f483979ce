"""Three `nexa research` processes on one data folder at the same time, as a user with several terminals (or a
server with workers) runs them: they share the embedded Redis Stack, so checkpoints, caches, research memory and
the knowledge base itself, and every run finishes. With the knowledge base in embedded Qdrant (NEXA_KB=qdrant)
the same runs lock each other out: Qdrant locks its folder to one process. That is why Redis is the default store.

The model is the OpenAI-protocol stand-in (tests/support/openai_stub.py), so the runs are fast and deterministic. It
holds each run's first planner request until every run has sent its own or exited (see `overlapping_answers`).
The test process starts the embedded Redis Stack of the data folder itself and keeps it until the end, and the
runs find it there as they would find another nexa process's server: this does not depend on which process
started the server, nor on the server outliving it.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase
from nexa_research.providers.kb.redis_store import RedisKnowledgeBase
from support.kb_fixtures import KB_COLLECTION
from support.research_stub import research_answers, role_of

pytestmark = pytest.mark.redis
NEXA = [sys.executable, "-m", "nexa_research.cli"]


def overlapping_answers(runs: int, processes: list[subprocess.Popen], timeout: float):
    """`research_answers`, with the first planner request of each run held until every run has sent its own or
    exited. Every process opens its knowledge base before it plans (the corpus survey comes first), so while a
    request is held its process holds the store: the runs provably overlap. A run that cannot open the store
    exits without planning; waiting for its planner request would only wait out the timeout."""
    held = threading.Condition()
    planner_requests = itertools.count()
    arrived = 0

    def respond(body: dict) -> str:
        nonlocal arrived
        if role_of(body) == "planner" and next(planner_requests) < runs:
            with held:
                arrived += 1
                held.notify_all()
                settled = held.wait_for(lambda: arrived + sum(p.poll() is not None for p in processes) >= runs,
                                        timeout=timeout)
            assert settled, f"only {arrived} of {runs} runs reached the planner and none of the others exited"
        return research_answers(body)

    return respond


@pytest.fixture
def shared_data_dir(tmp_path, isolated_data_dir, wiki_kb_data_dir, redis_stack_factory) -> Path:
    """A data folder whose embedded Redis runs (started here) with the Wikipedia subset in its knowledge base,
    and whose `qdrant/` holds the same subset for NEXA_KB=qdrant."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("models", "openssl11"):  # read-only, as in every test data folder (conftest)
        (data / name).symlink_to((isolated_data_dir / name).resolve(), target_is_directory=True)
    shutil.copytree(wiki_kb_data_dir / "qdrant", data / "qdrant")
    server = redis_stack_factory(data / "redis")
    with QdrantKnowledgeBase(path=data / "qdrant", collection=KB_COLLECTION) as wiki, \
         RedisKnowledgeBase(server.start(), collection=KB_COLLECTION) as kb:  # fmt: skip
        kb.import_points(wiki.export())
    return data


@pytest.mark.parametrize(("store", "runs"), [("redis", 3), ("qdrant", 2)])  # two are enough to show the conflict
def test_concurrent_cli_runs_on_one_data_folder(store, runs, shared_data_dir, serve, tmp_path):
    processes: list[subprocess.Popen] = []
    stub = serve(respond=overlapping_answers(runs, processes, timeout=240))
    env = {**os.environ, "NEXA_DATA_DIR": str(shared_data_dir), "NEXA_LLM_BASE_URL": stub.base_url,
           "NEXA_KB": store, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "true", "NEXA_RETRY_WAIT_SECONDS": "0",
           "NEXA_MIN_RELEVANCE": "-1", "COLUMNS": "200"}  # fmt: skip
    for unset in ("REDIS_URL", "QDRANT_URL"):
        env.pop(unset, None)
    logs = [tmp_path / f"run-{i}.log" for i in range(runs)]  # files, not pipes: a full pipe would stall a run
    for i, log in enumerate(logs):
        with log.open("w") as out:
            processes.append(subprocess.Popen(
                [*NEXA, "research", "The printing press", "--sections", "3", "--iterations", "1", "--quiet",
                 "--out", str(tmp_path / f"report-{i}.md")], env=env, stdout=out, stderr=subprocess.STDOUT,
            ))  # fmt: skip
    outcomes = [(process.wait(timeout=420), log.read_text()) for process, log in zip(processes, logs, strict=True)]

    locked_out = [output for _, output in outcomes if "already accessed by another instance of Qdrant client" in output]
    if store == "qdrant":
        # While the holder's planner request is held, it holds the folder: every other run failed to open it, and
        # says what to use instead. The holder itself is not disturbed: it finishes with its report.
        assert len(locked_out) == runs - 1, [output[-2000:] for _, output in outcomes]
        assert all("NEXA_KB=redis" in output for output in locked_out)
        holder = next(i for i, (_, output) in enumerate(outcomes) if output not in locked_out)
        assert outcomes[holder][0] == 0, outcomes[holder][1][-2000:]
        report = json.loads((tmp_path / f"report-{holder}.json").read_text())
        assert [s["status"] for s in report["sections"]] == ["done"] * 3, report["sections"]
        return
    assert not locked_out
    assert [code for code, _ in outcomes] == [0] * runs, [output[-2000:] for _, output in outcomes]
    for i in range(runs):
        report = json.loads((tmp_path / f"report-{i}.json").read_text())
        assert [s["status"] for s in report["sections"]] == ["done"] * 3, report["sections"]
        assert all(e["url"].startswith("https://en.wikipedia.org/wiki/") for e in report["bibliography"])
