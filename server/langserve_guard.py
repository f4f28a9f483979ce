"""What LangServe's handlers assume about a request body, checked first, so a malformed body is a 422, not a 500.

LangServe 0.3 parses the body itself and fails with a bare exception (a 500) on a body that is not UTF-8 JSON,
on `"config": null`, or on a /batch without a list of inputs; and an empty topic on a stream would end the
stream mid-response. A route dependency runs before its handler and
reads the same cached body, so these are refused here with the field named.
"""

from __future__ import annotations

import json

from fastapi import HTTPException, Request

from nexa_research.errors import ResearchInputError
from nexa_research.state import validate_topic


async def check_langserve_body(request: Request) -> None:
    if request.method != "POST":
        return
    try:
        body = await request.json()
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(status_code=422, detail=f"body: not UTF-8 JSON ({type(exc).__name__})") from exc
    if not isinstance(body, dict):
        raise HTTPException(status_code=422, detail="body: expected a JSON object")
    if "config" in body and not isinstance(body["config"], (dict, list, str)):
        raise HTTPException(status_code=422, detail="config: expected an object")
    if "kwargs" in body and not isinstance(body["kwargs"], dict):
        raise HTTPException(status_code=422, detail="kwargs: expected an object")
    if request.url.path.endswith("/batch"):
        if not isinstance(body.get("inputs"), list):
            raise HTTPException(status_code=422, detail="inputs: /batch expects a list of inputs")
        for i, item in enumerate(body["inputs"]):
            _check_topic(item, f"inputs[{i}]")
    elif request.url.path.endswith(("/invoke", "/stream", "/stream_log", "/stream_events")):
        _check_topic(body.get("input"), "input")


def _check_topic(item: object, where: str) -> None:
    """Before a streaming response starts: after that, an error can only end the stream, not answer a 422."""
    topic = item.get("topic") if isinstance(item, dict) else item
    try:
        validate_topic(topic)
    except ResearchInputError as exc:
        raise HTTPException(status_code=422, detail=f"{where}.{exc}") from exc
