"""A small MCP search server for tests: the `mcp` SDK's FastMCP over streamable HTTP on 127.0.0.1, in a thread.

Its tools answer from a fixed corpus (the in-memory backend's term-overlap ranking), in the shapes real MCP search
servers use: `search` returns structured results (FastMCP wraps a list as {"result": [...]}), `text_search`
returns JSON as text (argument `q`, no result count; FastMCP wraps the string as {"result": "..."} too),
`prose_search` returns prose without URLs and without structured content, and
`broken_search` fails. Every call is recorded in `calls` (tool, arguments).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn
from mcp.server.fastmcp import FastMCP
from pydantic import BaseModel

from nexa_research.providers import InMemorySearch
from support.server_harness import free_port


class Hit(BaseModel):
    url: str
    title: str
    text: str


class CannedSearchServer:
    def __init__(self, documents: Sequence[Mapping[str, Any]]) -> None:
        self.corpus = InMemorySearch(documents)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.mcp = FastMCP("canned-search", host="127.0.0.1", port=self.port)
        self._add_tools()

    async def _hits(self, query: str, k: int) -> list[Hit]:
        return [Hit(url=s["url"], title=s["title"], text=s["text"]) for s in await self.corpus.search(query, k)]

    def _add_tools(self) -> None:
        @self.mcp.tool()
        async def search(query: str, num_results: int = 5) -> list[Hit]:
            """Search the canned corpus."""
            self.calls.append(("search", {"query": query, "num_results": num_results}))
            return await self._hits(query, num_results)

        @self.mcp.tool()
        async def text_search(q: str) -> str:
            """Search the canned corpus; JSON results as text."""
            self.calls.append(("text_search", {"q": q}))
            return json.dumps({"results": [h.model_dump() for h in await self._hits(q, 3)]})

        @self.mcp.tool(structured_output=False)
        async def prose_search(query: str) -> str:
            """Answers in prose, with nothing to cite."""
            self.calls.append(("prose_search", {"query": query}))
            return "The printing press was important."

        @self.mcp.tool()
        async def broken_search(query: str) -> list[Hit]:
            """Always fails."""
            self.calls.append(("broken_search", {"query": query}))
            raise RuntimeError("index offline")

    @contextmanager
    def serving(self) -> Iterator[CannedSearchServer]:
        server = uvicorn.Server(uvicorn.Config(self.mcp.streamable_http_app(), host="127.0.0.1", port=self.port,
                                               log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the canned MCP search server did not start")
            time.sleep(0.05)
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def server_entry(url: str, tool: str = "search", **extra: Any) -> dict[str, Any]:
    """One NEXA_MCP_SERVERS entry for a server at `url`."""
    return {"url": url, "tool": tool, **extra}
