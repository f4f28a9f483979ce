"""Search through any MCP server's search tool (`search_backend="mcp:<server>"`), by langchain-mcp-adapters.

The adapters turn the server's tools into LangChain tools that open a session per call on the running event loop,
so one backend serves runs on any loop (the provider set reuses backends across runs). A search calls the tool
with the query (and the result count, when the tool takes one) and reads the results as `Source`s: from the
tool's structured content, else from JSON in its text. A result needs a URL and text, as in every backend, since
a citation must point somewhere and say something; the relevance gate and the citation checks then treat these
sources like any others. Results that are plain prose with no URLs cannot be cited, and are refused by name.

Failures of the server (unreachable, timed out, a protocol error) are transient `SearchBackendError`s, which the
research node retries; an error the tool itself reports, or an answer in a shape this reader does not know, is not.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException
from langchain_mcp_adapters.client import MultiServerMCPClient
from mcp.shared.exceptions import McpError

from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError, SearchBackendError
from nexa_research.providers.search.mcp_servers import PREFIX, McpSearchServer, server_for
from nexa_research.providers.search.protocol import make_source
from nexa_research.providers.settings import ProviderSettings
from nexa_research.state import Source

LIMIT_ARGUMENTS = ("num_results", "numResults", "max_results", "maxResults", "limit", "count", "top_k", "k")
URL_FIELDS = ("url", "link", "href", "uri")
TITLE_FIELDS = ("title", "name")
TEXT_FIELDS = ("text", "content", "snippet", "summary", "description", "highlights")
DATE_FIELDS = ("published", "published_date", "publishedDate", "date")
SERVER_FAILURES = (httpx.HTTPError, McpError, OSError, TimeoutError, ExceptionGroup)


class McpSearch:
    """`SearchBackend` over one MCP server's search tool."""

    def __init__(self, server: str, config: McpSearchServer) -> None:
        self.name = f"{PREFIX}{server}"
        self.server = server
        self.config = config
        # a tool's own error (isError) is raised, and reported as this backend's failure
        self._client = MultiServerMCPClient({server: config.connection()},  # type: ignore[dict-item]
                                            handle_tool_errors=False)
        self._tool: BaseTool | None = None

    def __repr__(self) -> str:  # headers may hold secrets
        return f"McpSearch(server={self.server!r}, tool={self.config.tool!r})"

    async def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Source]:
        query = " ".join((query or "").split())
        if not query:
            raise ResearchInputError(f"{self.name} search: query must not be empty")
        if k < 1:
            raise ResearchInputError(f"{self.name} search: k must be at least 1, got {k}")
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                tool = await self._search_tool()
                message = await tool.ainvoke({"type": "tool_call", "id": f"search-{uuid.uuid4().hex[:12]}",
                                              "name": tool.name, "args": self._arguments(tool, query, k)})
        except ToolException as exc:
            raise self._error(f"the tool {self.config.tool!r} reported an error: {exc}", transient=False) from exc
        except SERVER_FAILURES as exc:
            raise self._error(f"the server did not answer ({_describe(exc)})", transient=True) from exc
        if not isinstance(message, ToolMessage):
            raise self._error(f"unexpected answer {type(message).__name__}", transient=False)
        return self._sources(_results(message, self.name), k)

    async def _search_tool(self) -> BaseTool:
        if self._tool is None:
            tools = await self._client.get_tools(server_name=self.server)
            found = next((t for t in tools if t.name == self.config.tool), None)
            if found is None:
                names = ", ".join(sorted(t.name for t in tools)) or "none"
                raise self._error(f"the server has no tool {self.config.tool!r} (its tools: {names})", transient=False)
            self._tool = found
        return self._tool

    def _arguments(self, tool: BaseTool, query: str, k: int) -> dict[str, Any]:
        schema = tool.args if isinstance(tool.args, dict) else {}
        query_argument = self.config.query_argument or _query_argument(tool)
        arguments = {**self.config.arguments, query_argument: query}
        limit = self.config.limit_argument or next((a for a in LIMIT_ARGUMENTS if a in schema), None)
        if limit:
            arguments[limit] = k
        return arguments

    def _sources(self, results: list[Any], k: int) -> list[Source]:
        sources: list[Source] = []
        for item in results:
            if not isinstance(item, dict):
                continue
            url, text = _first(item, URL_FIELDS), _first(item, TEXT_FIELDS)
            if not url or not text:
                continue  # nothing to cite, or nothing to cite it for
            score = item.get("score")
            sources.append(make_source(url=url, title=_first(item, TITLE_FIELDS) or url, text=text,
                                       score=float(score) if isinstance(score, int | float) else 0.0,
                                       published=_first(item, DATE_FIELDS) or None))
            if len(sources) >= k:
                break
        if results and not sources:
            raise self._error(f"none of the {len(results)} results has both a URL ({'/'.join(URL_FIELDS)}) and text "
                              f"({'/'.join(TEXT_FIELDS)})", transient=False)
        return sources

    def _error(self, what: str, *, transient: bool) -> SearchBackendError:
        return SearchBackendError(f"{self.name} search: {what}", role="search", endpoint=self.name, transient=transient)


def _query_argument(tool: BaseTool) -> str:
    schema = tool.args if isinstance(tool.args, dict) else {}
    if "query" in schema or not schema:
        return "query"
    required = (tool.args_schema or {}).get("required", []) if isinstance(tool.args_schema, dict) else []
    strings = [name for name in required if (schema.get(name) or {}).get("type") == "string"]
    if len(strings) == 1:
        return strings[0]
    raise ResearchInputError(f"MCP tool {tool.name!r} has no 'query' argument: set query_argument for it in "
                             "NEXA_MCP_SERVERS")


def _results(message: ToolMessage, backend: str) -> list[Any]:
    """The result items: the structured content's, else JSON in the text blocks (a tool typed `-> str` has its
    JSON text wrapped as structured content {"result": "..."}: that holds no URL, so the text is read)."""
    artifact = message.artifact if isinstance(message.artifact, dict) else {}
    structured = _items(artifact.get("structured_content"))
    if any(isinstance(item, dict) and _first(item, URL_FIELDS) for item in structured):
        return structured
    blocks = message.content if isinstance(message.content, list) else [message.content]
    found: list[Any] = []
    for block in blocks:
        text = block.get("text") if isinstance(block, dict) else block if isinstance(block, str) else None
        if not text:
            continue
        try:
            found.extend(_items(json.loads(text)))
        except json.JSONDecodeError as exc:
            raise SearchBackendError(
                f"{backend} search: the tool answered in prose, not JSON results with url/title/text: nothing to "
                f"cite ({text[:120]!r})", role="search", endpoint=backend, transient=False) from exc
    return found


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ("results", "result", "items", "documents"):
            if isinstance(value.get(key), list):
                return list(value[key])
        return [value]
    return []


def _first(item: dict[str, Any], fields: tuple[str, ...]) -> str:
    for field in fields:
        value = item.get(field)
        if isinstance(value, list):
            value = " ".join(str(v) for v in value if v)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def backend_from_settings(cfg: ResearchConfig, settings: ProviderSettings) -> McpSearch:
    """Registry entry point for `search_backend="mcp:<server>"` (servers: NEXA_MCP_SERVERS)."""
    name, server = server_for(cfg.search_backend)
    return McpSearch(name, server)
