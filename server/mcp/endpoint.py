"""`/mcp`: the MCP endpoint (streamable HTTP) of the app, wired from the `mcp` SDK's low-level server.

The low-level `Server` rather than FastMCP, because the `research` tool's input schema is built from the research
knobs (server/mcp/tools.py) rather than from a Python signature that would repeat them. Sessions are stateless:
every POST carries its own MCP exchange, so any API process behind a balancer can answer any request, and the API
stays stateless as the rest of the server is (threads, runs, events and quotas live in Redis). A tool call's
progress notifications travel on the SSE response of that call's POST.

Access: the app's Gate middleware (server/access/gate.py) guards `/mcp` like any route, with the key in
`x-api-key` or `Authorization: Bearer <key>` (the header MCP hosts let a user configure for a remote server);
the verified key is on the request scope, where `create_run` finds it for ownership, tier and quota. The SDK's
DNS-rebinding check (a Host/Origin allow-list) is off: requests need a key, and the runs API beside it has no
such check, so it would only break `/mcp` behind a real host name.

The SDK's session manager needs its task group running: `running()` is entered by the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from nexa_research.server.context import ServerContext
from nexa_research.server.mcp.research_calls import ReportAnswer, ToolRefusal, run_research, stored_report
from nexa_research.server.mcp.run_progress import Notification
from nexa_research.server.mcp.tools import RESEARCH, RESEARCH_REPORT, listed_tools

INSTRUCTIONS = (
    "Deep research with checked citations. Call `research` with a topic (and optional knobs such as "
    "max_sections or max_iterations) for a cited Markdown report; it runs for minutes and reports progress. "
    "`research_report` returns a finished run's report again by its thread id."
)


class McpEndpoint:
    """The ASGI app to route at `/mcp`, and the context manager the host app's lifespan must enter."""

    def __init__(self, context: Callable[[], ServerContext | None], version: str) -> None:
        self._context = context
        self.server: Server[Any, Request] = Server("nexa-research", version=version, instructions=INSTRUCTIONS)
        self.server.list_tools()(self._list_tools)
        self.server.call_tool()(self._call_tool)
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """A session manager for this serving of the app (the SDK's manager runs once, so each lifespan makes one)."""
        self._manager = StreamableHTTPSessionManager(
            app=self.server, stateless=True, json_response=False,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        try:
            async with self._manager.run():
                yield
        finally:
            self._manager = None

    def route(self, path: str = "/mcp") -> Route:
        """The app's route to this endpoint (an ASGI app: every method, POST, GET and DELETE, goes to the SDK)."""
        return Route(path, self, include_in_schema=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._manager is None:
            raise RuntimeError("the MCP endpoint is not running: the app's lifespan enters McpEndpoint.running()")
        await self._manager.handle_request(scope, receive, send)

    async def _list_tools(self) -> list[types.Tool]:
        return listed_tools()

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        request_context = self.server.request_context
        request = request_context.request
        context = self._context()
        if context is None or not isinstance(request, Request):
            return _refused("the server is starting; try again shortly")
        progress_token = request_context.meta.progressToken if request_context.meta else None

        async def notify(note: Notification) -> None:
            if progress_token is not None:
                await request_context.session.send_progress_notification(
                    progress_token, note.progress, total=note.total, message=note.message,
                    related_request_id=str(request_context.request_id),
                )

        try:
            if name == RESEARCH:
                answer = await run_research(context, request, arguments, notify)
            elif name == RESEARCH_REPORT:
                answer = await stored_report(context, request, arguments.get("thread_id"))
            else:
                return _refused(f"unknown tool {name!r}; tools are {RESEARCH}, {RESEARCH_REPORT}")
        except ToolRefusal as exc:
            return _refused(str(exc))
        return _answer(answer)


def _answer(answer: ReportAnswer) -> types.CallToolResult:
    meta = {"nexa-research/thread_id": answer.thread_id}
    if answer.run_id is not None:
        meta["nexa-research/run_id"] = answer.run_id
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=answer.report.to_markdown())],
        structuredContent=answer.report.model_dump(mode="json"),
        isError=False,
        _meta=meta,
    )


def _refused(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], isError=True)
