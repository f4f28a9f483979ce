"""A stand-in for LangSmith's ingest API on 127.0.0.1: the real langsmith client traces into it, with no network.

What the client (langsmith 0.15) sends, read from its source: `GET /info` once per client (the answer's
`batch_ingest_config` and `instance_flags` choose the ingest path), then batches of run operations from a
background thread to `POST /runs/multipart` as multipart/form-data. Each run is a part named `post.<id>` (or
`patch.<id>` for an update: end time, outputs, error) holding the run's JSON minus its big fields, which come as
their own parts `post.<id>.inputs`, `.outputs`, `.extra` (metadata lives in `extra.metadata`), `.events`,
`.error`, `.serialized`. When /info sets `instance_flags.zstd_compression_enabled` (and zstandard is installed,
as langsmith requires) the whole body is zstd-compressed (`Content-Encoding: zstd`); the stub sets it, so the
path a real deployment takes is the one tested, and decompresses. A client told the multipart endpoint is off
sends JSON to `POST /runs/batch` (`{"post": [...], "patch": [...]}`); that is answered too.

`runs` merges every post and patch of a run id into one record, so a test reads a run as LangSmith would show it.
Use the `langsmith_stub` fixture: it starts the stub and points the environment (and langsmith's cached client and
settings) at it for one test, then puts everything back. Register it with `pytest_plugins = [..., "langsmith_stub"]`
in tests/conftest.py, or import the fixture into a test module.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
import zstandard  # langsmith's own dependency, for its compressed batches

from nexa_research.tracing import configure_tracing, flush_traces
from support.stub_server import RecordedRequest, ScriptedHTTPStub, StubHandler

INFO = {
    "version": "0.0.0-stub",
    "batch_ingest_config": {
        "use_multipart_endpoint": True,
        "size_limit": 100,
        "size_limit_bytes": 20 * 1024 * 1024,
        "scale_up_nthreads_limit": 1,
        "scale_up_qsize_trigger": 1000,
        "scale_down_nempty_trigger": 4,
    },
    "instance_flags": {"zstd_compression_enabled": True},
}


class LangSmithHandler(StubHandler):
    stub: ClassVar[LangSmithStub]

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.stub._record(RecordedRequest("GET", path, self._headers(), None))
        if path.rstrip("/").endswith("/info"):
            self._json(200, INFO)
        else:
            self._json(404, {"detail": f"the LangSmith stub does not serve GET {path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        raw = self._raw_body()
        headers = self._headers()
        if path.endswith("/runs/multipart"):
            ops = _multipart_ops(raw, headers.get("content-type", ""))
        elif path.endswith("/runs/batch"):
            batch = json.loads(raw or b"{}")
            ops = [(op, run) for op in ("post", "patch") for run in batch.get(op) or []]
        elif path.endswith("/runs"):
            ops = [("post", json.loads(raw))]
        else:
            self.stub._record(RecordedRequest("POST", path, headers, raw[:2000].decode("utf-8", "replace")))
            self._json(404, {"detail": f"the LangSmith stub does not serve POST {path}"})
            return
        self.stub._record(RecordedRequest("POST", path, headers, ops))
        self.stub._ingest(ops)
        self._json(202, {})

    def do_PATCH(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        run = json.loads(self._raw_body() or b"{}")
        run.setdefault("id", path.rsplit("/", 1)[-1])
        self.stub._record(RecordedRequest("PATCH", path, self._headers(), run))
        self.stub._ingest([("patch", run)])
        self._json(200, {})

    def _raw_body(self) -> bytes:
        """The body, de-chunked and decompressed (the client streams zstd-compressed batches)."""
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            raw = b""
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                raw += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
        if (self.headers.get("Content-Encoding") or "").lower() == "zstd":
            raw = zstandard.ZstdDecompressor().stream_reader(raw).read()
        return raw


def _multipart_ops(raw: bytes, content_type: str) -> list[tuple[str, dict[str, Any]]]:
    """(operation, run) pairs from a /runs/multipart body, each run's side parts folded back into it."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        operation, _, rest = name.partition(".")
        if operation not in ("post", "patch"):
            continue  # attachments and feedback are not recorded
        run_id, _, key = rest.partition(".")
        value = json.loads(part.get_payload(decode=True) or b"null")
        run = runs.setdefault((operation, run_id), {"id": run_id})
        if key:
            run[key] = value
        else:
            run.update(value)
    return [(op, run) for (op, _), run in runs.items()]


@dataclass
class LangSmithStub(ScriptedHTTPStub):
    """Records the runs the langsmith client sends; `url` is what LANGSMITH_ENDPOINT should name."""

    modes: ClassVar[frozenset[str]] = frozenset({"ok"})
    stub_name: ClassVar[str] = "LangSmithStub"
    thread_name: ClassVar[str] = "langsmith-stub"
    handler_class: ClassVar[type[StubHandler]] = LangSmithHandler

    operations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.base_url

    def _ingest(self, ops: list[tuple[str, dict[str, Any]]]) -> None:
        with self._lock:
            self.operations.extend(ops)

    @property
    def runs(self) -> list[dict[str, Any]]:
        """Every run received, posts and patches of one id merged, in the order first seen.

        Each has at least `id`, `trace_id`, `parent_run_id`, `name`, `run_type`, `tags`, `metadata` (from
        `extra.metadata`) and, once patched, `end_time`.
        """
        with self._lock:
            ops = list(self.operations)
        merged: dict[str, dict[str, Any]] = {}
        for _, run in ops:  # a patch repeats some fields as null: keep what the post said
            merged.setdefault(str(run["id"]), {}).update({k: v for k, v in run.items() if v is not None})
        for run in merged.values():
            run.setdefault("parent_run_id", None)
            run["metadata"] = (run.get("extra") or {}).get("metadata") or {}
            run["tags"] = run.get("tags") or []
        return list(merged.values())

    def roots(self) -> list[dict[str, Any]]:
        """Runs without a parent: one per trace."""
        return [run for run in self.runs if run["parent_run_id"] is None]

    def trace(self, root_id: str) -> list[dict[str, Any]]:
        """Every run of the trace whose root is `root_id` (the root included), in the order first received."""
        return [run for run in self.runs if str(run.get("trace_id")) == str(root_id)]

    def wait_until(self, condition: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Poll `condition(runs)` until true (the client sends from a background thread); the runs, or raise."""
        deadline = time.monotonic() + timeout
        while True:
            runs = self.runs
            if condition(runs):
                return runs
            if time.monotonic() > deadline:
                raise AssertionError(f"the LangSmith stub lacks the expected runs after {timeout} s ({len(runs)} runs)")
            time.sleep(0.05)


def reset_langsmith() -> None:
    """Forget what langsmith cached from the environment: its env reads, its project name, its shared client.

    langsmith reads LANGSMITH_* through `functools.lru_cache`d getters and keeps one client per process (the one
    LangChain's tracer uses), so a test that changes the environment must reset them before and after.
    """
    import langsmith
    from langsmith import utils as ls_utils

    flush_traces()
    ls_utils.get_env_var.cache_clear()
    ls_utils.get_tracer_project.cache_clear()
    langsmith.configure(client=None)


@pytest.fixture
def langsmith_stub() -> Iterator[LangSmithStub]:
    """A started `LangSmithStub` with LANGSMITH_TRACING/API_KEY/ENDPOINT/PROJECT pointing at it for one test.

    The environment is set before the test body runs, so a worker process the test starts inherits it.
    """
    with LangSmithStub() as stub, pytest.MonkeyPatch.context() as env:
        env.setenv("LANGSMITH_TRACING", "true")
        env.setenv("LANGSMITH_API_KEY", "test-key")
        env.setenv("LANGSMITH_ENDPOINT", stub.url)
        env.setenv("LANGSMITH_PROJECT", "nexa-tests")
        env.delenv("LANGCHAIN_TRACING_V2", raising=False)
        env.delenv("LANGCHAIN_API_KEY", raising=False)
        reset_langsmith()
        configure_tracing()  # undoes a switch-off left by a test of tracing without a key
        try:
            yield stub
        finally:
            reset_langsmith()
    reset_langsmith()  # once more, with the environment as it was
    configure_tracing()
