"""What the local HTTP stand-ins (tests/exa_stub.py, tests/openai_stub.py) share: serving, recording, scripting.

Both stubs run a threaded HTTP server on 127.0.0.1 so a real client library is exercised with no network, record
every request so a test asserts what went on the wire, and answer each request with a mode taken from a script
(then `default_mode`): a normal answer, an error, a drop, or a pause long past any client timeout. Only the
answers and the modes differ between services, so those live in each stub; the lifecycle and the scripting live
here once, and a fix to either (say, releasing parked requests on stop) reaches both stubs.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit


@dataclass
class RecordedRequest:
    """One request the stub received; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class StubHandler(BaseHTTPRequestHandler):
    """Request plumbing every stub needs; `stub` is bound per server by `ScriptedHTTPStub.start`.

    Binding the stub as a class attribute of a per-start subclass lets the handlers be plain module-level
    classes instead of closures, and two stubs of the same kind running at once never see each other.
    """

    stub: ClassVar[ScriptedHTTPStub]
    # Headers sent with every non-streamed answer (the OpenAI stub closes each connection, see there).
    answer_headers: ClassVar[tuple[tuple[str, str], ...]] = ()

    @property
    def _log(self) -> logging.Logger:
        """The stub module's logger, so log records keep naming the service they came from."""
        return logging.getLogger(type(self.stub).__module__)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        self._log.debug(f"{self.stub.thread_name}: " + format, *args)

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _read_body(self, empty: Any) -> Any:
        """The JSON body; text that is not JSON is kept as text so a test can see what the client sent."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else empty
        except json.JSONDecodeError:
            return raw.decode("utf-8", "replace")

    def _take_post(self, empty_body: Any) -> tuple[str, Any, str] | None:
        """Record a POST and pick its mode: (path, body, mode) to answer, or None when the mode already settled it.

        `drop` closes the socket with no answer; `slow` parks the request until `slow_seconds` pass (then the
        request is answered late, in its own mode) or the stub stops (then nobody is waiting any more).
        """
        body = self._read_body(empty_body)
        path = urlsplit(self.path).path
        self.stub._record(RecordedRequest("POST", path, self._headers(), body))
        mode = self.stub._next_mode(body)
        if mode == "drop":
            self._drop()
            return None
        if mode == "slow" and self.stub._release.wait(self.stub.slow_seconds):
            return None  # the stub is stopping; the client gave up long ago
        return path, body, mode

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", extra)

    def _send(self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        """A whole answer; a client that already hung up (a timeout test) is logged, not raised in the server."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (*self.answer_headers, *(extra or {}).items()):
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError) as exc:
            self._log.debug("%s: client went away before the answer: %s", self.stub.thread_name, exc)


@dataclass(kw_only=True)
class ScriptedHTTPStub:
    """A threaded HTTP stub on a free port with scripted per-request modes. Use as a context manager.

    Subclasses set the class attributes below and add their own fields; the shared fields are keyword-only
    so each stub's own fields keep their positional order.
    """

    modes: ClassVar[frozenset[str]]
    stub_name: ClassVar[str]  # in error messages, e.g. "unknown ExaStub mode ..."
    thread_name: ClassVar[str]  # the serving thread's name and the prefix of log lines
    handler_class: ClassVar[type[StubHandler]]
    server_class: ClassVar[type[ThreadingHTTPServer]] = ThreadingHTTPServer
    poll_interval: ClassVar[float] = 0.5  # how often serve_forever checks for shutdown, i.e. how long stop() may take
    base_path: ClassVar[str] = ""  # appended to http://host:port in `base_url`

    default_mode: str = "ok"
    slow_seconds: float = 10.0
    requests: list[RecordedRequest] = field(default_factory=list)
    _script: deque[str] = field(default_factory=deque)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._check_mode(self.default_mode)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.stub_name} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.base_path}"

    def start(self) -> Self:
        self._release.clear()
        handler = type(self.handler_class.__name__, (self.handler_class,), {"stub": self})
        self._server = self.server_class(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; a request parked in slow mode is released so no thread outlives the test for long."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *modes: str) -> None:
        """Answer the next requests with these modes, in order; after them `default_mode` applies again."""
        for mode in modes:
            self._check_mode(mode)
        with self._lock:
            self._script.extend(modes)

    def _check_mode(self, mode: str) -> None:
        if mode not in self.modes:
            raise ValueError(f"unknown {self.stub_name} mode {mode!r}; modes: {', '.join(sorted(self.modes))}")

    def _next_mode(self, body: Any = None) -> str:
        """The next scripted mode, else `default_mode`; `body` lets a stub pick a mode from the request."""
        with self._lock:
            return self._script.popleft() if self._script else self.default_mode

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
