"""The research graph as LangServe serves it at /research: the graph of the app's `ResearchRuntime`, run like the
library runs it.

LangServe needs a runnable when routes are added, before the app's event loop (and so its Redis clients and
checkpointer) exists. `RuntimeGraph` is that runnable: its schemas come from a graph compiled up front, and each
call runs the graph of the runtime the app opened in its lifespan, with the same caches, memory, checkpointer
and "sync" durability as `aresearch`. `add_research_routes` mounts it with what LangServe leaves out.

Threads. LangServe validates `config` with the runnable's config schema and keeps only what that schema names; a
LangGraph 1.x graph's schema has no `thread_id`, so LangServe silently drops it (its checkpointer then fails for
want of one). Here the schema names `thread_id`, so `config={"configurable": {"thread_id": ...}}` from
`RemoteRunnable` reaches the run, and so does an `X-Thread-Id` header (for clients that cannot set config; not
on /batch, whose inputs each need a thread of their own, given per input in its config). A thread id is 1-128
characters of letters, digits and `_.:-`, so it can appear in the runs API's URLs. Without one a request runs
on a new thread. With one, the call behaves as `aresearch(thread_id=...)`: a finished thread returns its stored
report without calling any model (a stream sends it as one `{"stored_report": {...}}` chunk), an interrupted
one continues from its last checkpoint, and a thread holding another topic is a 422.

Knobs. `configurable` accepts `ResearchConfig`'s fields and `thread_id`; an unknown key or a value out of range
is a 422 naming the field, as is a config the providers cannot serve, before any model is called.

Limits, and the answer to them. LangServe runs a graph to its end or its first interrupt and cannot resume one:
/invoke has no way to send `Command(resume=...)`, and its response model drops `__interrupt__`. So
- a run with `review_plan` on needs a thread id (422 otherwise): an invoke that pauses returns the state so far,
  `report` null and the plan to review in `paragraphs`; a stream's last chunk is `{"__interrupt__": [...]}`;
- calling /research again on a thread waiting for plan review is a 409 that points to the runs API;
- the answer is the LangGraph runs API of the same server, which reads the same checkpointer. With
  `client = langgraph_sdk.get_client(url=...)`: `await client.runs.wait(tid, "nexa_research",
  command={"resume": "approve"}, if_not_exists="create")` (or an edited plan, see nodes/plan_review.py;
  `if_not_exists` because a thread LangServe started has checkpoints but no thread record there yet); over
  plain HTTP, `POST /threads/{tid}/runs/wait` with that body.
  Afterwards /research with the same thread id returns the finished report.
- two requests on one thread at the same time are not queued here (the runs API does that); a batch naming one
  thread twice is a 422;
- errors on /stream and /stream_events arrive as LangServe's generic 500 error event (it hides messages, and the
  response has started); /invoke and /batch give the 422 or 409 with its message.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.utils import ConfigurableFieldSpec
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send
from langgraph.warnings import LangGraphDeprecatedSinceV10
from langserve import add_routes
from langserve.serialization import WellKnownLCSerializer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, create_model

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import ResearchInputError
from nexa_research.runtime import ResearchRuntime
from nexa_research.server.access.langserve_access import admit_langserve_call
from nexa_research.server.langserve_guard import check_langserve_body
from nexa_research.state import validate_topic

THREAD_HEADER = "X-Thread-Id"
ThreadId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
_THREAD_ID = TypeAdapter(ThreadId)
_RUNS_API_HINT = (
    "resume it through the runs API of this server: POST /threads/{tid}/runs/wait with assistant_id "
    "'nexa_research', command {{'resume': 'approve'}} (or an edited plan) and if_not_exists 'create'"
)


class RequestKnobs(ResearchKnobs):
    """What `configurable` may hold on /research: the knobs and the thread, nothing else (unknown keys are a 422)."""

    model_config = ConfigDict(extra="forbid")

    thread_id: ThreadId | None = Field(
        default=None, description="Run on this thread: a finished one returns its report, an interrupted one continues."
    )


class ThreadBusy(Exception):
    """The thread waits for plan review: only the runs API can resume it."""


@dataclass
class _Call:
    """One request turned into a graph call, or into the stored values of a finished thread."""

    graph: CompiledStateGraph
    payload: Any
    config: RunnableConfig
    options: dict[str, Any] = field(default_factory=dict)
    stored: dict[str, Any] | None = None


class RuntimeGraph(Runnable[dict[str, Any], dict[str, Any]]):
    """Delegates every call to `runtime().graph`; describes itself with `template`'s schemas plus `thread_id`."""

    def __init__(self, runtime: Callable[[], ResearchRuntime], template: CompiledStateGraph) -> None:
        self._runtime = runtime
        self._template = template
        self._config_schemas: dict[tuple[str, ...], type[BaseModel]] = {}
        self.name = template.get_name()

    @property
    def InputType(self) -> Any:  # noqa: N802 - the Runnable API's name
        return self._template.InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return self._template.OutputType

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        return self._template.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        return self._template.get_output_schema(config)

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        """`RequestKnobs` as specs: LangServe's /config_schema and playground draw their form from these."""
        return [
            ConfigurableFieldSpec(
                id=name, name=info.title or name, description=info.description, default=None,
                annotation=Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation,
            )
            for name, info in RequestKnobs.model_fields.items()
        ]

    def config_schema(self, *, include: Any = None) -> type[BaseModel]:
        """The template's schema with `configurable` as `RequestKnobs`: LangServe keeps only what this names."""
        key = tuple(include or ())
        if key not in self._config_schemas:
            # LangGraph marks config_schema deprecated in favour of context schemas, which LangServe does not read.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)
                base = self._template.config_schema(include=include)
            if "configurable" in key:
                base = create_model(base.__name__, __base__=base, configurable=(RequestKnobs | None, None))
            self._config_schemas[key] = base
        return self._config_schemas[key]

    async def _prepare(self, input: Any, config: RunnableConfig | None) -> _Call:
        """Check the knobs and the thread before any model is called; decide what the graph is given."""
        runtime = self._runtime()
        graph = runtime.graph
        validate_topic(input.get("topic") if isinstance(input, dict) else input)
        given: dict[str, Any] = dict(config or {})
        configurable = {k: v for k, v in (given.get("configurable") or {}).items() if v is not None}
        names = ResearchConfig.field_names()
        knobs = {k: v for k, v in configurable.items() if k in names}
        cfg = ResearchConfig.from_values(knobs)
        runtime.providers.validate(cfg)  # type: ignore[union-attr]
        thread_id = configurable.get("thread_id")
        if graph.checkpointer is None:
            if thread_id is not None or cfg.review_plan:
                raise ResearchInputError("thread_id: this server keeps no checkpoints (NEXA_CHECKPOINTER=none)")
            return _Call(graph, input, cast(RunnableConfig, {**given, "configurable": configurable}))
        call = _Call(graph, input, cast(RunnableConfig, given), {"durability": "sync"})
        if thread_id is None:
            if cfg.review_plan:
                raise ResearchInputError(
                    f"review_plan: needs a thread_id (configurable or the {THREAD_HEADER} header) so that the paused "
                    "run can be resumed through the runs API"
                )
            configurable["thread_id"] = uuid.uuid4().hex
        else:
            await self._continue_thread(runtime, thread_id, input, configurable, call)
        call.config = cast(RunnableConfig, {**given, "configurable": configurable})
        return call

    @staticmethod
    async def _continue_thread(
        runtime: ResearchRuntime, thread_id: str, input: Any, configurable: dict[str, Any], call: _Call
    ) -> None:
        """As `run_on_thread`: a finished thread's values, an interrupted one resumed, a paused one refused."""
        snapshot = await runtime.snapshot(thread_id)
        existing = snapshot.values if snapshot is not None and snapshot.values else None
        if existing is None:
            return
        topic = validate_topic((input or {}).get("topic") if isinstance(input, dict) else input)
        if " ".join(existing["topic"].split()).casefold() != topic.casefold():
            raise ResearchInputError(f"thread_id: thread {thread_id!r} holds a run on {existing['topic']!r}, not {topic!r}")
        if not snapshot.next and existing.get("report"):
            call.stored = existing
        elif snapshot.interrupts:
            raise ThreadBusy(f"thread {thread_id!r} waits for plan review: " + _RUNS_API_HINT.format(tid=thread_id))
        elif snapshot.next:
            stored = {k: v for k, v in (existing.get("config") or {}).items() if k not in configurable}
            configurable.update(stored)
            call.payload = None  # continue from the last checkpoint; finished branches are not run again

    async def _checked(self, input: Any, config: RunnableConfig | None) -> _Call:
        """`_prepare`, its refusals as HTTP errors a client can act on (raised inside LangServe's route)."""
        try:
            return await self._prepare(input, config)
        except ResearchInputError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except ThreadBusy as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc

    def invoke(self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError("the research graph runs on the server's event loop: use ainvoke")

    async def ainvoke(self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        call = await self._checked(input, config)
        if call.stored is not None:
            return call.stored
        return await call.graph.ainvoke(call.payload, call.config, **call.options, **kwargs)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        raise NotImplementedError("the research graph runs on the server's event loop: use astream")

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """The graph's updates; a finished thread's report as one `stored_report` chunk."""
        call = await self._checked(input, config)
        if call.stored is not None:
            yield {"stored_report": {"title": call.stored.get("title"), "report": call.stored["report"]}}
            return
        async for chunk in call.graph.astream(call.payload, call.config, **call.options, **kwargs):
            yield chunk

    async def abatch(
        self, inputs: list[Any], config: RunnableConfig | list[RunnableConfig] | None = None, **kwargs: Any
    ) -> list[Any]:
        configs = config if isinstance(config, list) else [config] * len(inputs)
        named = [(c or {}).get("configurable", {}).get("thread_id") for c in configs]
        twice = sorted({t for t in named if t is not None and named.count(t) > 1})
        if twice:
            raise HTTPException(status_code=422, detail=f"thread_id: {twice[0]!r} is given to more than one input")
        return await super().abatch(inputs, config, **kwargs)

    async def atransform(self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any):
        final: Any = None
        async for item in input:
            final = item if final is None else final + item
        async for chunk in self.astream(final, config, **kwargs):
            yield chunk


class GraphSerializer(WellKnownLCSerializer):
    """LangServe's serializer plus LangGraph's `Send`: the dispatch edge's events carry them, and LangServe's own
    serializer fails on them, which ends /stream_events and the playground's /stream_log with an error."""

    def dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_graph_default)


def _graph_default(obj: Any) -> Any:
    if isinstance(obj, Send):
        return {"node": obj.node, "arg": obj.arg}
    if isinstance(obj, BaseModel):  # what LangServe's own default does
        return obj.model_dump()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def thread_from_header(config: dict[str, Any], request: Request) -> dict[str, Any]:
    """LangServe's per-request modifier: the `X-Thread-Id` header as `configurable.thread_id`, checked like it."""
    header = request.headers.get(THREAD_HEADER)
    if header is None:
        return config
    where = ["header", THREAD_HEADER.lower()]
    if request.url.path.endswith("/batch"):
        raise RequestValidationError([{
            "type": "value_error", "loc": where, "input": header,
            "msg": "not on /batch: each input needs a thread of its own (configurable.thread_id per input)",
        }])
    try:
        thread_id = _THREAD_ID.validate_python(header)
    except ValidationError as exc:
        raise RequestValidationError([{**err, "loc": where} for err in exc.errors(include_url=False)]) from exc
    configurable = dict(config.get("configurable") or {})
    if configurable.get("thread_id") not in (None, thread_id):
        raise RequestValidationError([{
            "type": "value_error", "loc": where, "input": header,
            "msg": f"differs from configurable.thread_id {configurable['thread_id']!r}: give the thread once",
        }])
    return {**config, "configurable": {**configurable, "thread_id": thread_id}}


async def _per_request(config: dict[str, Any], request: Request) -> dict[str, Any]:
    """The thread header, then the caller's access rules (server/access/langserve_access.py)."""
    return await admit_langserve_call(thread_from_header(config, request), request)


def add_research_routes(
    app: FastAPI,
    runtime: Callable[[], ResearchRuntime],
    template: CompiledStateGraph,
    path: str = "/research",
) -> None:
    """Mount /invoke, /batch, /stream, /stream_events, /stream_log and /playground/ at `path`.

    `runtime()` returns the app's open `ResearchRuntime` (opened in the app's lifespan); `template` is a graph
    compiled for its schemas only, never run. Only `configurable` is taken from a client's config.
    """
    add_routes(
        app,
        RuntimeGraph(runtime, template),
        path=path,
        config_keys=("configurable",),
        per_req_config_modifier=_per_request,
        dependencies=[Depends(check_langserve_body)],
        serializer=GraphSerializer(),
    )
