"""A stand-in for a Qdrant server's REST API on 127.0.0.1 that insists on an API key, so the real qdrant-client is
tested against an authenticated QDRANT_URL with no network.

It speaks what the knowledge base uses: collection exists / create / info, payload indexes, upsert, retrieve,
count, delete, scroll and query (dot product, exact, no filters: a filtered request is refused with 400 so a
test cannot pass by accident). Collections live in memory. Every request is recorded with its headers; any
request without `api-key: <api_key>` gets Qdrant's 401 (`Must provide an API key or an Authorization bearer token`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import numpy as np

from support.stub_server import RecordedRequest, ScriptedHTTPStub, StubHandler

_ROUTE = re.compile(r"^/collections/(?P<name>[^/]+)(?P<rest>(/[a-z_/]+)?)$")


class QdrantHandler(StubHandler):
    stub: ClassVar[QdrantStub]
    server_version = "QdrantStub/1.0"

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        body = self._read_body({}) if method != "GET" else None
        path = urlsplit(self.path).path
        self.stub._record(RecordedRequest(method, path, self._headers(), body))
        if self.headers.get("api-key") != self.stub.api_key:
            self._json(401, {"status": {"error": "Must provide an API key or an Authorization bearer token"}})
            return
        match = _ROUTE.match(path)
        if match is None:
            self._json(404, {"status": {"error": f"no route {method} {path}"}})
            return
        try:
            result = self.stub.answer(method, match["name"], match["rest"], body or {})
        except LookupError as exc:
            self._json(404, {"status": {"error": str(exc)}})
        except ValueError as exc:
            self._json(400, {"status": {"error": str(exc)}})
        else:
            self._json(200, {"result": result, "status": "ok", "time": 0.0})


@dataclass(kw_only=True)
class QdrantStub(ScriptedHTTPStub):
    modes: ClassVar[frozenset[str]] = frozenset({"ok"})
    stub_name: ClassVar[str] = "QdrantStub"
    thread_name: ClassVar[str] = "qdrant-stub"
    handler_class: ClassVar[type[StubHandler]] = QdrantHandler

    api_key: str = "stub-key"
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def touched_collections(self) -> set[str]:
        return {m["name"] for r in self.requests if (m := _ROUTE.match(r.path))}

    def answer(self, method: str, name: str, rest: str, body: dict[str, Any]) -> Any:
        if rest == "/exists":
            return {"exists": name in self.collections}
        if rest == "" and method == "PUT":
            self.collections[name] = {"size": body["vectors"]["size"], "points": {}}
            return True
        collection = self.collections.get(name)
        if collection is None:
            raise LookupError(f"Collection `{name}` doesn't exist!")
        points: dict[str, dict[str, Any]] = collection["points"]
        done = {"operation_id": 0, "status": "completed"}
        if rest == "" and method == "GET":
            return _info(collection["size"], len(points))
        if rest == "/index":
            return done
        if rest == "/points" and method == "PUT":
            points.update({str(p["id"]): p for p in body["points"]})
            return done
        if rest == "/points":  # retrieve
            return [_record(points[str(i)], body.get("with_vector")) for i in body["ids"] if str(i) in points]
        if rest == "/points/delete":
            for i in body["points"]:
                points.pop(str(i), None)
            return done
        if body.get("filter"):
            raise ValueError("the stub does not filter")
        if rest == "/points/count":
            return {"count": len(points)}
        if rest == "/points/scroll":
            return {"points": [_record(p, True) for p in points.values()], "next_page_offset": None}
        if rest == "/points/query":
            return {"points": _query(list(points.values()), body)}
        raise LookupError(f"no route {method} {rest}")


def _record(point: dict[str, Any], with_vector: Any) -> dict[str, Any]:
    return {"id": point["id"], "payload": point.get("payload"), "vector": point["vector"] if with_vector else None}


def _query(points: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    if not points:
        return []
    query = body["query"]
    vector = query["nearest"] if isinstance(query, dict) else query  # qdrant-client sends {"nearest": [...]}
    scores = np.asarray([p["vector"] for p in points]) @ np.asarray(vector)
    threshold = body.get("score_threshold")
    ranked = sorted(zip(scores.tolist(), points), key=lambda pair: -pair[0])
    kept = [(s, p) for s, p in ranked if threshold is None or s > threshold][: body.get("limit", 10)]
    return [{**_record(p, body.get("with_vector")), "version": 0, "score": s} for s, p in kept]


def _info(size: int, count: int) -> dict[str, Any]:
    return {
        "status": "green", "optimizer_status": "ok", "segments_count": 1, "points_count": count, "payload_schema": {},
        "config": {
            "params": {"vectors": {"size": size, "distance": "Dot"}},
            "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000},
            "optimizer_config": {"default_segment_number": 0, "flush_interval_sec": 5},
        },
    }  # fmt: skip
