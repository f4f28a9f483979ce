"""A stand-in for an OpenAI-compatible chat server on 127.0.0.1, so the real openai/langchain-openai client is tested.

It answers POST /v1/chat/completions (a JSON body, or Server-Sent Events when the request says `stream: true`)
and GET /v1/models in the shapes OpenAI uses. The answer text comes from a scriptable `respond(request_json)`,
so a test can answer each graph role from its own prompt. Every request is recorded (path, lower-cased
headers including Authorization, JSON body) so a test asserts what the client actually put on the wire.
Failure modes are scripted per request: an error status with OpenAI's error body (400, 401, 429, 500, 503), an
answer slower than the client's timeout, a connection closed before any answer, a stream cut mid-way, a 200 whose
JSON body is broken (`malformed`), or an answer cut off at the token limit (`length`: finish_reason "length").
A `response_format: json_schema` request gets the responder's text as content unchanged, like a server that
enforces the schema by grammar (llama.cpp does): the responder is trusted to return matching JSON. A responder
that raises gets a 500 and its error lands in `errors`. Tests start stubs with the `serve` fixture (import it
into the test module) and name an endpoint that is down with `closed_port_url()`.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

from support.stub_server import RecordedRequest, ScriptedHTTPStub, StubHandler

logger = logging.getLogger(__name__)

Responder = Callable[[dict[str, Any]], str]

# Status, message, type and code of OpenAI's JSON error body for each scripted error mode.
ERROR_MODES: dict[str, tuple[int, str, str, str | None]] = {
    "400": (400, "Invalid value for 'messages'.", "invalid_request_error", None),
    "401": (401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    "429": (429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    "500": (500, "The server had an error while processing your request.", "server_error", None),
    "503": (503, "The engine is currently overloaded, please try again later.", "server_error", None),
}
MODES = frozenset({"ok", "slow", "drop", "drop_mid_stream", "malformed", "length", *ERROR_MODES})


def default_responder(body: dict[str, Any]) -> str:
    return "A scripted answer from the stub server."


def message_text(body: dict[str, Any], role: str) -> str:
    """All `role` messages of a chat request joined; content given as parts is flattened to its text."""
    texts = []
    for message in body.get("messages") or []:
        if message.get("role") != role:
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        texts.append(str(content or ""))
    return "\n".join(texts)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # a graph run fans out; the default backlog of 5 would refuse some branches


class OpenAIHandler(StubHandler):
    """Answers GET /v1/models and POST /v1/chat/completions like OpenAI, in the mode the stub picks."""

    stub: ClassVar[OpenAIStub]
    server_version = "OpenAIStub/1.0"
    protocol_version = "HTTP/1.1"  # chunked streams, so a cut stream is visible to the client as an error
    answer_headers = (("Connection", "close"),)  # no pooled connection outlives a test's event loop

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.stub._record(RecordedRequest("GET", path, self._headers(), None))
        if not self._authorized():
            self._fail(*ERROR_MODES["401"])
        elif path.rstrip("/") == "/v1/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "stub"} for m in self.stub.models]
            self._json(200, {"object": "list", "data": data})
        else:
            self._fail(404, f"No route for GET {path}")

    def do_POST(self) -> None:
        taken = self._take_post(empty_body={})
        if taken is None:
            return
        path, body, mode = taken
        if not self._authorized():
            self._fail(*ERROR_MODES["401"])
        elif mode in ERROR_MODES:
            self._fail(*ERROR_MODES[mode])
        elif mode == "malformed":
            self._send(200, b'{"id": "chatcmpl-broken", "choices": [{"index": 0, "message": ', "application/json")
        elif path.rstrip("/") != "/v1/chat/completions":
            self._fail(404, f"No route for POST {path}")
        elif not isinstance(body, dict):
            self._fail(400, "body is not a JSON object")
        else:
            self._answer(body, cut=mode == "drop_mid_stream", finish="length" if mode == "length" else "stop")

    def _answer(self, body: dict[str, Any], cut: bool, finish: str = "stop") -> None:
        """A responder that raises is a bug in the test: answer 500 with its message and keep it in `errors`."""
        stub = self.stub
        try:
            content = stub.respond(body)
        except Exception as exc:  # noqa: BLE001 - reported to the test through `errors` and the 500 body
            logger.exception("openai-stub: responder failed")
            stub.errors.append(f"{type(exc).__name__}: {exc}")
            self._fail(500, f"stub responder failed: {type(exc).__name__}: {exc}", "server_error")
            return
        if body.get("stream"):
            self._stream(stub.chunks(body, content), cut=cut)
        else:
            self._json(200, stub.completion(body, content, finish))

    def _authorized(self) -> bool:
        return self.stub.api_key is None or self.headers.get("Authorization") == f"Bearer {self.stub.api_key}"

    def _fail(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> None:
        """OpenAI's error body; 429 and 503 say when to retry, as OpenAI does, so client retries stay quick."""
        wait = self.stub.retry_after_ms is not None and status in (429, 503)
        extra = {"retry-after-ms": str(self.stub.retry_after_ms)} if wait else {}
        self._json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, extra)

    def _stream(self, events: list[dict[str, Any]], cut: bool) -> None:
        """SSE in chunked transfer encoding, as real servers send it; `cut` closes the socket mid-stream."""
        try:
            self.send_response(200)
            for name, value in (("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked"), ("Connection", "close")):
                self.send_header(name, value)
            self.end_headers()
            for i, event in enumerate(events):
                if cut and i == 2:
                    self.wfile.flush()
                    self._drop()
                    return
                self._chunk(f"data: {json.dumps(event)}\n\n".encode())
            self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError) as exc:
            logger.debug("openai-stub: client went away during the stream: %s", exc)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


@dataclass
class OpenAIStub(ScriptedHTTPStub):
    """A threaded HTTP server imitating an OpenAI-compatible endpoint. Use as a context manager.

    `api_key`: when set, any other bearer token gets 401. `served_model`: the model name reported in answers
    (default: echo the requested model, as OpenAI does). `models`: ids listed by GET /v1/models.
    """

    modes: ClassVar[frozenset[str]] = MODES
    stub_name: ClassVar[str] = "OpenAIStub"
    thread_name: ClassVar[str] = "openai-stub"
    handler_class: ClassVar[type[StubHandler]] = OpenAIHandler
    server_class: ClassVar[type[ThreadingHTTPServer]] = _Server
    poll_interval: ClassVar[float] = 0.05  # many stubs start and stop per test; stop() should not wait 0.5 s
    base_path: ClassVar[str] = "/v1"  # `base_url` is what a client takes (OpenAI's SDK appends /chat/completions)

    respond: Responder = default_responder
    api_key: str | None = None
    served_model: str | None = None
    models: tuple[str, ...] = ("stub-model",)
    retry_after_ms: int | None = 5
    errors: list[str] = field(default_factory=list)

    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.chat_requests()]

    def completion(self, body: dict[str, Any], content: str, finish: str = "stop") -> dict[str, Any]:
        """A non-streaming chat completion in OpenAI's shape, with word counts as token usage."""
        prompt_tokens = sum(len(message_text(body, r).split()) for r in ("system", "user", "assistant"))
        completion_tokens = len(content.split())
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.served_model or str(body.get("model") or "stub-model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
        }

    def chunks(self, body: dict[str, Any], content: str) -> list[dict[str, Any]]:
        """The same answer as `chat.completion.chunk` events: role first, a few words per chunk, then the stop."""
        whole = self.completion(body, content)
        base = {"id": whole["id"], "object": "chat.completion.chunk", "created": whole["created"], "model": whole["model"]}
        words = content.split(" ")
        pieces = [" ".join(words[i : i + 3]) + (" " if i + 3 < len(words) else "") for i in range(0, len(words), 3)]
        deltas = [{"role": "assistant", "content": ""}, *({"content": p} for p in pieces)]
        events = [{**base, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": None}]} for d in deltas]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": whole["usage"]})
        return events


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connecting is refused at once (an endpoint that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def serve():
    """`serve(**fields)` starts an `OpenAIStub` on a free port; every stub started is stopped after the test.

    Import it into a test module (`from openai_stub import serve`) to use it there.
    """
    started: list[OpenAIStub] = []

    def start(**kwargs: Any) -> OpenAIStub:
        started.append(OpenAIStub(**kwargs).start())
        return started[-1]

    yield start
    for stub in started:
        stub.stop()
