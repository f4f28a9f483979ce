"""A stand-in for Exa's HTTP API on 127.0.0.1, so the real exa-py client can be tested with no network.

It answers POST /search in the shape Exa uses (requestId, resolvedSearchType, results with id, url,
title, score, publishedDate, author, text, costDollars) and honours the request fields the library
sends (numResults, excludeDomains, includeDomains, start/endPublishedDate, contents.text.maxCharacters),
so a test sees what the client sent (`requests`) and what a caller gets back. Failure modes are
scripted per request: an error status with Exa's JSON error body, a response slower than any sane
timeout, a body that is not JSON, or a connection closed without an answer.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

# Status, error message and tag of Exa's JSON error body for each scripted error mode.
ERROR_MODES: dict[str, tuple[int, str, str]] = {
    "401": (401, "Invalid API key", "INVALID_API_KEY"),
    "402": (402, "You have run out of credits", "NO_MORE_CREDITS"),
    "429": (429, "Rate limit exceeded for this API key", "RATE_LIMIT_EXCEEDED"),
    "500": (500, "Internal server error", "INTERNAL_ERROR"),
    "503": (503, "Service temporarily unavailable", "SERVICE_UNAVAILABLE"),
}
MODES = frozenset({"ok", "slow", "not_json", "drop", *ERROR_MODES})

_FILLER = (
    " Researchers compared the approach with earlier baselines on several public benchmarks and reported the"
    " settings, data and code needed to reproduce each figure."
)


def _long_text(opening: str, size: int = 3200) -> str:
    """Page text longer than the 2,000-character limit, so clipping is observable."""
    text = opening
    while len(text) < size:
        text += _FILLER
    return text


# (url, title, author, publishedDate, opening sentence); the reddit page is there to be excluded.
_PAGES = (
    ("https://arxiv.org/abs/1706.03762", "Attention Is All You Need", "Ashish Vaswani", "2017-06-12T00:00:00.000Z",
     "The Transformer is a sequence transduction model based entirely on attention mechanisms."),
    ("https://en.wikipedia.org/wiki/Transformer_(deep_learning_architecture)",
     "Transformer (deep learning architecture) - Wikipedia", None, "2019-08-01T00:00:00.000Z",
     "A transformer is a deep learning architecture built on multi-head attention."),
    ("https://www.reddit.com/r/MachineLearning/comments/abc123/transformers_explained", "Transformers explained simply",
     "u/someone", "2021-03-04T10:00:00.000Z",
     "A forum thread in which people explain transformer attention to each other."),
    ("https://blog.example.org/posts/attention-scaling?utm_source=feed", "How attention scales with sequence length",
     "A. Writer", "2023-11-16T01:36:32.547Z",
     "Attention cost grows quadratically with sequence length; sparse variants reduce it."),
    ("https://news.example.com/ai/2024/transformer-hardware", "Chips designed around transformer inference", "Staff",
     "2024-05-20T08:00:00.000Z", "Hardware makers now design accelerators for transformer inference workloads."),
)
DEFAULT_DOCUMENTS: tuple[dict[str, Any], ...] = tuple(
    {"url": url, "title": title, "author": author, "publishedDate": published, "text": _long_text(opening)}
    for url, title, author, published, opening in _PAGES
)


@dataclass
class RecordedRequest:
    """One request the stub received; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ExaStub:
    """A threaded HTTP server imitating Exa. Use as a context manager or call `start()` / `stop()`."""

    api_key: str = "test-exa-key"
    documents: Iterable[Mapping[str, Any]] = DEFAULT_DOCUMENTS
    default_mode: str = "ok"
    slow_seconds: float = 10.0
    honour_max_characters: bool = True
    fail_queries: dict[str, str] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    _script: deque[str] = field(default_factory=deque)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.documents = [dict(d) for d in self.documents]
        self._check_mode(self.default_mode)
        for mode in self.fail_queries.values():
            self._check_mode(mode)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("ExaStub is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ExaStub:
        self._release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="exa-stub", daemon=True)
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

    def __enter__(self) -> ExaStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *modes: str) -> None:
        """Answer the next requests with these modes, in order; after them `default_mode` applies again."""
        for mode in modes:
            self._check_mode(mode)
        with self._lock:
            self._script.extend(modes)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.fail_queries.clear()
        self.default_mode = "ok"
        self.honour_max_characters = True

    def search_bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == "/search"]

    def _check_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown ExaStub mode {mode!r}; modes: {', '.join(sorted(MODES))}")

    def _next_mode(self, body: Any) -> str:
        """`fail_queries` (query substring -> mode) first, so every retry of such a query fails alike."""
        query = str(body.get("query", "")).lower() if isinstance(body, Mapping) else ""
        for needle, mode in self.fail_queries.items():
            if needle.lower() in query:
                return mode
        with self._lock:
            return self._script.popleft() if self._script else self.default_mode

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def answer_search(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Rank documents by query-term overlap and apply Exa's filters and text limit."""
        terms = {w for w in str(body.get("query", "")).lower().split() if len(w) > 2}
        limit = _max_characters(body.get("contents"))
        ranked: list[tuple[float, dict[str, Any]]] = []
        for doc in self.documents:  # type: ignore[union-attr]
            if not _domain_allowed(doc["url"], body.get("includeDomains"), body.get("excludeDomains")):
                continue
            published = doc.get("publishedDate") or ""
            if body.get("startPublishedDate") and (not published or published < body["startPublishedDate"]):
                continue
            if body.get("endPublishedDate") and (not published or published > body["endPublishedDate"]):
                continue
            words = set(f"{doc['title']} {doc['text']}".lower().split())
            score = 0.1 + 0.8 * (len(terms & words) / len(terms) if terms else 0.0)
            ranked.append((round(score, 4), doc))
        ranked.sort(key=lambda item: -item[0])
        results = []
        for score, doc in ranked[: int(body.get("numResults") or 10)]:
            text = doc["text"]
            if limit is not None and self.honour_max_characters:
                text = text[:limit]
            results.append(
                {
                    "id": doc["url"],
                    "url": doc["url"],
                    "title": doc["title"],
                    "score": score,
                    "publishedDate": doc.get("publishedDate"),
                    "author": doc.get("author"),
                    "image": None,
                    "favicon": f"https://{urlsplit(doc['url']).hostname}/favicon.ico",
                    "text": text if limit != 0 else None,
                }
            )
        return {
            "requestId": uuid.uuid4().hex,
            "resolvedSearchType": "neural",
            "results": results,
            "searchTime": 42.0,
            "costDollars": {
                "total": round(0.005 + 0.001 * len(results), 4),
                "search": {"neural": 0.005},
                "contents": {"text": round(0.001 * len(results), 4)},
            },
        }


def _max_characters(contents: Any) -> int | None:
    """Exa's text limit from `contents`: None for unlimited, 0 when no text was asked for."""
    if contents is None:
        return 10_000  # Exa's default when a request names no contents
    if contents is False or not isinstance(contents, Mapping):
        return 0
    text = contents.get("text")
    if text is True:
        return None
    if isinstance(text, Mapping):
        return text.get("maxCharacters")
    return 0


def _domain_allowed(url: str, include: Any, exclude: Any) -> bool:
    host = (urlsplit(url).hostname or "").lower()

    def matches(domain: str) -> bool:
        domain = domain.lower().strip()
        return host == domain or host.endswith("." + domain)

    if include and not any(matches(d) for d in include):
        return False
    return not (exclude and any(matches(d) for d in exclude))


def _handler_for(stub: ExaStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ExaStub/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            logger.debug("exa-stub: " + format, *args)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode("utf-8", "replace")
            path = urlsplit(self.path).path
            stub._record(RecordedRequest("POST", path, {k.lower(): v for k, v in self.headers.items()}, body))
            mode = stub._next_mode(body)
            if mode == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if mode == "slow" and stub._release.wait(stub.slow_seconds):
                return  # the stub is stopping; the client gave up long ago
            if self.headers.get("x-api-key") != stub.api_key:
                self._error(*ERROR_MODES["401"])
            elif mode in ERROR_MODES:
                self._error(*ERROR_MODES[mode])
            elif mode == "not_json":
                self._send(200, b"<html><body>Bad gateway</body></html>", "text/html")
            elif path == "/search" and isinstance(body, Mapping):
                self._json(200, stub.answer_search(body))
            elif path == "/search":
                self._error(400, "Request body must be a JSON object", "INVALID_REQUEST_BODY")
            else:
                self._error(404, f"No route for POST {path}", "NOT_FOUND")

        def _error(self, status: int, message: str, tag: str) -> None:
            self._json(status, {"requestId": uuid.uuid4().hex, "error": message, "tag": tag})

        def _json(self, status: int, payload: Any) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError) as exc:
                logger.debug("exa-stub: client went away before the answer: %s", exc)

    return Handler
