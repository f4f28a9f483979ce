"""Structured logs: JSON lines from structlog and stdlib alike, the correlation id of the request or run on each,
and no API key, prompt or document text, however careless the log call.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging

import httpx
import pytest
import structlog
from fastapi import FastAPI

from nexa_research.server.observability.logs import (
    REDACTED,
    CorrelationIds,
    bind_correlation,
    bind_run,
    configure_logging,
    correlation_id,
    get_logger,
)

KEY = "nxr_0123456789ab_" + "S3cr3t-" * 6
PROMPT = "You are a careful planner. Plan a report on the printing press."


@pytest.fixture
def log_lines():
    """`configure_logging(json=True)` into a buffer; `lines()` parses what was written. Logging is restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    adopted = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
               for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "taskiq")}
    buffer = io.StringIO()
    configure_logging("INFO", json=True, stream=buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    lines.raw = buffer  # type: ignore[attr-defined]
    yield lines
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, (handlers, propagate) in adopted.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate
    structlog.reset_defaults()


def test_structlog_and_stdlib_lines_are_json_with_the_bound_correlation_id(log_lines):
    with bind_correlation("req-42") as cid:
        assert cid == correlation_id() == "req-42"
        get_logger("nexa_research.test").info("run queued", run_id="r1")
        logging.getLogger("nexa_research.legacy").warning("worker %s: %d slots", "w1", 4)
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/ok", "1.1", 200)
    get_logger("nexa_research.test").info("outside")
    first, second, access, outside = log_lines()
    assert first["event"] == "run queued" and first["run_id"] == "r1" and first["level"] == "info"
    assert first["logger"] == "nexa_research.test" and first["timestamp"]
    assert second["event"] == "worker w1: 4 slots" and second["level"] == "warning"
    assert second["logger"] == "nexa_research.legacy"
    assert {first["correlation_id"], second["correlation_id"], access["correlation_id"]} == {"req-42"}
    assert "correlation_id" not in outside and correlation_id() is None


def test_keys_prompts_and_document_text_never_reach_a_line(log_lines, caplog):
    log = get_logger("nexa_research.test")
    log.info("model call", prompt=PROMPT, messages=[{"role": "user", "content": PROMPT}], api_key=KEY,
             headers={"X-API-Key": KEY, "Authorization": f"Bearer {KEY}"}, note=f"retrying with {KEY}",
             sources=[{"url": "https://example.org", "text": "Document text that must not leak."}])
    logging.getLogger("nexa_research.legacy").error("auth failed for %s", KEY, extra={"document": "Doc body."})
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError as exc:
        logging.getLogger("nexa_research.legacy").exception("request failed")
        log.error("request failed", exc_info=(type(exc), exc, exc.__traceback__))
    raw = log_lines.raw.getvalue()
    for secret in (KEY.split("_", 2)[2], "printing press", "must not leak", "Doc body"):
        assert secret not in raw
    call, auth, failure, structured_failure = log_lines()
    assert "ValueError: bad key nxr_0123456789ab_" in structured_failure["exception"]
    assert call["prompt"] == call["messages"] == call["api_key"] == REDACTED
    assert call["headers"] == {"X-API-Key": REDACTED, "Authorization": REDACTED}
    assert call["note"] == f"retrying with nxr_0123456789ab_{REDACTED}", "the key id stays: it names the key"
    assert call["sources"] == [{"url": "https://example.org", "text": REDACTED}]
    assert auth["document"] == REDACTED and auth["event"] == f"auth failed for nxr_0123456789ab_{REDACTED}"
    assert "ValueError: bad key nxr_0123456789ab_" in failure["exception"]
    structlog_record = caplog.records[0].msg  # what any other handler sees: fields already redacted
    assert structlog_record["prompt"] == structlog_record["api_key"] == REDACTED


async def test_logs_of_a_run_carry_the_requests_correlation_id(log_lines):
    """The API binds the request's id and stores it on the run; the worker binds the run; both halves share it."""
    with bind_correlation() as request_cid:
        run = {"run_id": "run-1", "thread_id": "thread-1", "correlation_id": correlation_id()}
        get_logger("nexa_research.api").info("run created", run_id=run["run_id"])

    async def worker_executes(record: dict) -> None:
        with bind_run(record):
            get_logger("nexa_research.worker").info("run started", api_key=KEY)
            await asyncio.sleep(0)
            logging.getLogger("nexa_research.worker").info("run %s done", record["run_id"])

    await asyncio.gather(worker_executes(run), worker_executes({"run_id": "run-2", "thread_id": "thread-2"}))
    lines = log_lines()
    assert KEY not in log_lines.raw.getvalue()
    mine = [line for line in lines if line["correlation_id"] == request_cid]
    assert [line["event"] for line in mine] == ["run created", "run started", "run run-1 done"]
    assert all(line.get("run_id") == "run-1" for line in mine)
    assert {line["thread_id"] for line in mine[1:]} == {"thread-1"}
    other = [line for line in lines if line.get("run_id") == "run-2"]
    assert len(other) == 2 and {line["correlation_id"] for line in other} == {"run-2"}, "no id: the run id stands in"


async def test_middleware_binds_and_echoes_the_request_id(log_lines):
    app = FastAPI()
    app.add_middleware(CorrelationIds)

    @app.get("/who")
    async def who() -> dict:
        get_logger("nexa_research.api").info("serving")
        return {"correlation_id": correlation_id()}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        given = await client.get("/who", headers={"X-Request-ID": "client-trace.7_A"})
        made = await client.get("/who")
        insane = await client.get("/who", headers={"X-Request-ID": "has spaces; and=more"})
        too_long = await client.get("/who", headers={"X-Request-ID": "a" * 65})
    assert given.headers["x-request-id"] == given.json()["correlation_id"] == "client-trace.7_A"
    for response in (made, insane, too_long):
        cid = response.headers["x-request-id"]
        assert len(cid) == 32 and cid == response.json()["correlation_id"]
    assert len({r.headers["x-request-id"] for r in (made, insane, too_long)}) == 3
    served = [line["correlation_id"] for line in log_lines() if line["logger"] == "nexa_research.api"]
    assert served == [r.headers["x-request-id"] for r in (given, made, insane, too_long)]
    assert correlation_id() is None
