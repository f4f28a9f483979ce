"""One shared llama.cpp host per data folder, across processes: found, replaced when killed, stopped when idle.

Real hosts on a small spec (512 tokens a slot, 2 slots, 1 thread: `model_data_dir`), started through the library
as runs start them. Processes are separate `python -c` interpreters, as CLI runs and server workers are.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from nexa_research.errors import ServiceStartError
from nexa_research.providers.llm.local_server import local_server, stop_local_server
from nexa_research.providers.llm.model_folder import host_pids, read_record
from nexa_research.providers.llm.model_launch import LocalServerSpec, ensure_host
from nexa_research.providers.settings import ProviderSettings
from support.local_llm_fixtures import write_tiny_gguf

LOOK_UP = (
    "import json\n"
    "from nexa_research.providers.llm.local_server import local_server\n"
    "from nexa_research.providers.settings import ProviderSettings\n"
    "server = local_server(ProviderSettings.load())\n"
    "print(json.dumps({'pid': server.record.pid, 'base_url': server.base_url, 'key': server.api_key}))\n"
)


def look_up_in_a_process() -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", LOOK_UP], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def ask(server, max_tokens: int = 4) -> httpx.Response:
    """A chat request of exactly `max_tokens` tokens (llama.cpp's ignore_eos), so its length is known."""
    body = {"messages": [{"role": "user", "content": "Count from one to one hundred in words."}],
            "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True}  # fmt: skip
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=300,
                      headers={"Authorization": f"Bearer {server.api_key}", "Connection": "close"})  # fmt: skip


def test_two_processes_share_one_host_that_outlives_them(model_data_dir: Path) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:  # two interpreters starting at once: one host
        first, second = pool.map(lambda _: look_up_in_a_process(), range(2))
    assert first == second
    server = local_server(ProviderSettings.load())
    folder = server.spec.folder(model_data_dir / "local-llm")
    assert server.record.pid == first["pid"] and server.base_url == first["base_url"]
    assert host_pids(folder) == [first["pid"]], "one llama.cpp host for the folder"
    assert read_record(folder) == server.record
    assert ask(server).status_code == 200, "the host outlived both processes that used it"
    assert httpx.get(f"{server.base_url}/models", timeout=10).status_code == 401, "it requires its key"


def test_threads_starting_at_once_start_one_host(model_data_dir: Path) -> None:
    settings = ProviderSettings.load()
    with ThreadPoolExecutor(max_workers=4) as pool:
        servers = list(pool.map(lambda _: local_server(settings), range(4)))
    assert len({(s.record.pid, s.base_url, s.api_key) for s in servers}) == 1
    folder = servers[0].spec.folder(model_data_dir / "local-llm")
    assert host_pids(folder) == [servers[0].record.pid]
    assert stop_local_server(settings) == [servers[0].record]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{servers[0].root_url}/health", timeout=2)
    assert read_record(folder) is None and host_pids(folder) == []


def test_a_killed_host_is_replaced_on_its_port_with_its_key(model_data_dir: Path) -> None:
    """A client holding the old URL and key keeps working once the next lookup has started the new host."""
    old = local_server(ProviderSettings.load())
    folder = old.spec.folder(model_data_dir / "local-llm")
    os.kill(old.record.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while host_pids(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert read_record(folder) == old.record, "the record is stale, not removed"
    new = local_server(ProviderSettings.load())
    assert new.record.pid != old.record.pid and host_pids(folder) == [new.record.pid]
    assert (new.base_url, new.api_key) == (old.base_url, old.api_key)
    assert ask(old).status_code == 200


def test_an_idle_host_stops_but_never_under_a_request(model_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXA_LOCAL_IDLE_MINUTES", "0.02")  # 1.2 s; the watch looks every 0.5 s
    server = local_server(ProviderSettings.load())
    folder = server.spec.folder(model_data_dir / "local-llm")
    answered: list[httpx.Response] = []
    long_request = threading.Thread(target=lambda: answered.append(ask(server, max_tokens=400)))
    started = time.monotonic()
    long_request.start()
    long_request.join(timeout=300)
    took = time.monotonic() - started
    assert took > 3, f"the request ({took:.1f} s) must outlast the idle period and a few looks to prove anything"
    assert answered[0].status_code == 200 and answered[0].json()["usage"]["completion_tokens"] == 400
    deadline = time.monotonic() + 60
    while host_pids(folder) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_pids(folder) == [] and read_record(folder) is None
    log = (folder / "host.log").read_text()
    assert "stopped after 0.02 idle minutes" in log
    again = local_server(ProviderSettings.load())  # the next use starts it again
    assert again.record.pid != server.record.pid and ask(again).status_code == 200


def test_a_model_llama_cannot_load_is_a_service_start_error_with_its_log(model_data_dir: Path) -> None:
    """A header that parses but holds no usable weights: the host exits, and the error names the file."""
    model = write_tiny_gguf(model_data_dir / "hollow.gguf")
    spec = LocalServerSpec(model, ctx_per_slot=512, parallel=1, threads=1)
    with pytest.raises(ServiceStartError, match=rf"did not start with model {model} on 127\.0\.0\.1") as failed:
        ensure_host(spec, model_data_dir / "local-llm", idle_minutes=1)
    assert "failed to load model" in str(failed.value)
    assert host_pids(spec.folder(model_data_dir / "local-llm")) == []
