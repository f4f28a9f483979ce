"""A stand-in for Exa's HTTP API on 127.0.0.1, so the real exa-py client can be tested with no network.

It answers POST /search in the shape Exa uses (requestId, resolvedSearchType, results with id, url,
title, score, publishedDate, author, text, costDollars) and honours the request fields the library
sends (numResults, excludeDomains, includeDomains, start/endPublishedDate, contents.text.maxCharacters),
so a test sees what the client sent (`requests`) and what a caller gets back. Failure modes are
scripted per request: an error status with Exa's JSON error body, a response slower than any sane
timeout, a body that is not JSON, or a connection closed without an answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from support.stub_server import RecordedRequest, ScriptedHTTPStub, StubHandler  # noqa: F401 - RecordedRequest is re-exported

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


class ExaHandler(StubHandler):
    """Answers POST /search like Exa, in the mode the stub picks for each request."""

    stub: ClassVar[ExaStub]
    server_version = "ExaStub/1.0"

    def do_POST(self) -> None:
        taken = self._take_post(empty_body=None)
        if taken is None:
            return
        path, body, mode = taken
        if self.headers.get("x-api-key") != self.stub.api_key:
            self._error(*ERROR_MODES["401"])
        elif mode in ERROR_MODES:
            self._error(*ERROR_MODES[mode])
        elif mode == "not_json":
            self._send(200, b"<html><body>Bad gateway</body></html>", "text/html")
        elif path == "/search" and isinstance(body, Mapping):
            self._json(200, self.stub.answer_search(body))
        elif path == "/search":
            self._error(400, "Request body must be a JSON object", "INVALID_REQUEST_BODY")
        else:
            self._error(404, f"No route for POST {path}", "NOT_FOUND")

    def _error(self, status: int, message: str, tag: str) -> None:
        self._json(status, {"requestId": uuid.uuid4().hex, "error": message, "tag": tag})


@dataclass
class ExaStub(ScriptedHTTPStub):
    """A threaded HTTP server imitating Exa. Use as a context manager or call `start()` / `stop()`.

    `fail_queries` maps a query substring to a mode that every request for such a query gets (before the script).
    """

    modes: ClassVar[frozenset[str]] = MODES
    stub_name: ClassVar[str] = "ExaStub"
    thread_name: ClassVar[str] = "exa-stub"
    handler_class: ClassVar[type[StubHandler]] = ExaHandler

    api_key: str = "test-exa-key"
    documents: Iterable[Mapping[str, Any]] = DEFAULT_DOCUMENTS
    honour_max_characters: bool = True
    fail_queries: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.documents = [dict(d) for d in self.documents]
        for mode in self.fail_queries.values():
            self._check_mode(mode)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.fail_queries.clear()
        self.default_mode = "ok"
        self.honour_max_characters = True

    def search_bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == "/search"]

    def _next_mode(self, body: Any = None) -> str:
        """`fail_queries` (query substring -> mode) first, so every retry of such a query fails alike."""
        query = str(body.get("query", "")).lower() if isinstance(body, Mapping) else ""
        for needle, mode in self.fail_queries.items():
            if needle.lower() in query:
                return mode
        return super()._next_mode(body)

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
