"""Structured logs: one JSON object per line on stderr, tagged with the request's or run's correlation id.

One id follows a piece of work from the API into the worker: the `CorrelationIds` middleware takes the
caller's `X-Request-ID` (or makes one), binds it for the request and echoes it in the response; the API puts
it in the run record it creates, and the worker binds it again (`bind_run`) while it executes the run, so
`grep <id>` over API and worker logs finds both halves. The id lives in a contextvar (structlog's), so it
follows the request's or run's asyncio task and the threads it starts, never a neighbouring task.

structlog renders our own loggers and, through `ProcessorFormatter` on the root handler, every stdlib record
(uvicorn, taskiq, langsmith, `logging.getLogger(...)` in our modules), so one process writes one format.

Logs must never carry an API key, a prompt or document text, whoever wrote the log call: fields with those
names are replaced before rendering, and anything shaped like a key is masked in the rendered line itself,
which also covers keys inside messages, reprs and tracebacks.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import IO, Any

import structlog
from structlog.contextvars import bind_contextvars, get_contextvars, merge_contextvars, reset_contextvars

REDACTED = "[redacted]"
HEADER = "x-request-id"
# Field names (lower-cased, '-' read as '_') whose values never reach a log: secrets and user or model text.
SECRET_FIELDS = frozenset({"x_api_key", "api_key", "authorization", "password", "secret"})
TEXT_FIELDS = frozenset({"prompt", "prompts", "messages", "text", "content", "document", "documents"})
# Shapes of keys: ours (nxr_<12 hex id>_<secret>; the id is kept, it names the key without opening it),
# LangSmith's, OpenAI's and bearer tokens.
_KEYS = re.compile(
    r"(?P<nxr>nxr_[0-9a-f]{12}_)[A-Za-z0-9-]+"
    r"|lsv2_[A-Za-z0-9_]{20,}"
    r"|sk-[A-Za-z0-9_-]{20,}"
    r"|(?P<bearer>[Bb]earer\s+)[A-Za-z0-9._~+/=-]{8,}"
)
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_OUR_HANDLER = "_nexa_observability"
# Loggers that libraries give handlers of their own (uvicorn's default log config does); ours render them.
_ADOPTED = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "taskiq")


def mask_keys(text: str) -> str:
    """`text` with every key-shaped substring masked."""
    return _KEYS.sub(lambda m: (m.group("nxr") or m.group("bearer") or "") + REDACTED, text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_keys(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _sensitive(k) else _scrub(v) for k, v in value.items()}
    if isinstance(value, tuple):  # an exc_info tuple stays one
        return tuple(_scrub(v) for v in value)
    if isinstance(value, (list, set, frozenset)):
        return [_scrub(v) for v in value]
    return value


def _sensitive(name: Any) -> bool:
    key = str(name).lower().replace("-", "_")
    return key in SECRET_FIELDS or key in TEXT_FIELDS


def redact(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: fields named like a secret or user text become "[redacted]", nested ones too."""
    return {k: REDACTED if _sensitive(k) and k != "event" else _scrub(v) for k, v in event_dict.items()}


def _drop_console_markup(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """uvicorn passes a colourised copy of its message as `extra`; the plain one is enough."""
    event_dict.pop("color_message", None)
    return event_dict


def _mask_rendered(_logger: Any, _method: str, rendered: str) -> str:
    """The last processor: keys that slipped through in messages, reprs or tracebacks are masked in the line."""
    return mask_keys(rendered)


def configure_logging(level: int | str = "INFO", json: bool = True, stream: IO[str] | None = None) -> None:
    """Route structlog and stdlib logging to one handler on `stream` (stderr): JSON lines, or console text.

    Idempotent: calling it again replaces the handler it installed (and nothing else's). Run it after uvicorn
    set up its logging (or run uvicorn with `log_config=None`): uvicorn's own handlers are removed so its
    records reach ours.
    """
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    before: list[Any] = [merge_contextvars, structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, timestamper]
    processors: list[Any] = [structlog.stdlib.filter_by_level, *before, structlog.processors.StackInfoRenderer(),
                             redact, structlog.stdlib.ProcessorFormatter.wrap_for_formatter]
    structlog.configure(
        # `redact` already here, so any other handler on the way (pytest's, an error reporter's) gets redacted fields
        processors=processors,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    foreign: list[Any] = [*before, structlog.stdlib.ExtraAdder(), _drop_console_markup]
    rendering: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                            structlog.processors.format_exc_info, redact, renderer, _mask_rendered]
    formatter = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=foreign, processors=rendering)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _OUR_HANDLER, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OUR_HANDLER, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in _ADOPTED:
        adopted = logging.getLogger(name)
        adopted.handlers.clear()
        adopted.propagate = True
        adopted.disabled = False  # a dictConfig (uvicorn's) may have disabled it
        adopted.setLevel(logging.NOTSET)  # the root's level decides


def get_logger(name: str) -> Any:
    """A structlog logger named `name` (the `logger` field), e.g. `get_logger(__name__).info("run done", run_id=r)`."""
    return structlog.stdlib.get_logger(name)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def sane_correlation_id(value: str | None) -> str | None:
    """`value` when it is safe to log and echo: up to 64 of [A-Za-z0-9._-]; else None."""
    return value if value is not None and _SANE_ID.fullmatch(value) else None


def correlation_id() -> str | None:
    """The correlation id bound in the current context (request or run), if any."""
    return get_contextvars().get("correlation_id")


class Bound:
    """Values bound into the log context; already bound when created, unbound on `__exit__`.

    So `bind_correlation(cid)` works as a statement (bound for the rest of the task) and as
    `with bind_correlation(cid) as cid:` (bound for the block, the previous values restored after).
    """

    def __init__(self, **values: Any) -> None:
        self.values = values
        self._tokens = bind_contextvars(**values)

    def __enter__(self) -> str | None:
        return self.values.get("correlation_id")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        reset_contextvars(**self._tokens)


def bind_correlation(cid: str | None = None) -> Bound:
    """Bind `cid` (a new id when None) as the correlation id of what runs in this context."""
    return Bound(correlation_id=cid or new_correlation_id())


def bind_run(run: Mapping[str, Any]) -> Bound:
    """Bind a run record's run_id, thread_id and correlation_id for the worker executing it.

    A run created before correlation ids existed has none: its run id stands in, so its lines still share one.
    """
    return Bound(
        run_id=run.get("run_id"), thread_id=run.get("thread_id"),
        correlation_id=run.get("correlation_id") or run.get("run_id"),
    )


class CorrelationIds:
    """Pure ASGI middleware: a correlation id per HTTP request, bound while it is served, echoed as X-Request-ID.

    A caller's `X-Request-ID` is kept when it is a sane token (so a client or proxy can follow its own id);
    anything else is replaced rather than logged. The id is also in `request.state.correlation_id`. Add it last
    (`app.add_middleware(CorrelationIds)`), so it is outermost and even a 413 from an inner middleware carries it.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope.get("headers") or () if k.lower() == HEADER.encode()), None)
        cid = sane_correlation_id(given) or new_correlation_id()
        scope.setdefault("state", {})["correlation_id"] = cid

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != HEADER.encode()]
                message = {**message, "headers": [*headers, (HEADER.encode(), cid.encode())]}
            await send(message)

        with bind_correlation(cid):
            await self.app(scope, receive, send_with_id)
