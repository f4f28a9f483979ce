"""Which MCP servers `search_backend="mcp:<server>"` may use: NEXA_MCP_SERVERS, set by whoever deploys.

A JSON object from a server name to how to reach it and which tool searches there:

    NEXA_MCP_SERVERS='{"web": {"url": "https://search.example/mcp", "headers": {"Authorization": "Bearer ..."},
                                "tool": "search"},
                       "papers": {"command": "papers-mcp", "args": ["--stdio"], "tool": "find_papers",
                                  "query_argument": "q", "limit_argument": "max_results"}}'

Per-run config only names a server (`mcp:web`); the URL, headers and command stay in the deployment's environment,
so a caller of the server's API can reach only the MCP servers the operator listed, never one of its own choosing.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nexa_research.errors import ResearchInputError

PREFIX = "mcp:"
VARIABLE = "NEXA_MCP_SERVERS"


class McpSearchServer(BaseModel):
    """One MCP server and its search tool: `url` (streamable HTTP) or `command` (a subprocess over stdio)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="Streamable HTTP endpoint, e.g. http://127.0.0.1:8000/mcp.")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP headers, e.g. Authorization.")
    command: str | None = Field(default=None, description="A stdio server's command.")
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] | None = Field(default=None, description="The stdio server's environment.")
    tool: str = Field(default="search", min_length=1, description="The tool that searches.")
    query_argument: str | None = Field(
        default=None, description="The tool's argument for the query; default 'query', else its one required string.")
    limit_argument: str | None = Field(
        default=None, description="The tool's argument for the number of results; default: found in its schema.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Fixed arguments sent with every search.")
    timeout_seconds: float = Field(default=30.0, gt=0, le=600, description="Longest wait for one search.")

    @model_validator(mode="after")
    def _one_transport(self) -> McpSearchServer:
        if (self.url is None) == (self.command is None):
            raise ValueError("give either url (streamable HTTP) or command (stdio), not both or neither")
        return self

    def connection(self) -> dict[str, Any]:
        """The connection as langchain-mcp-adapters takes it."""
        if self.url is not None:
            return {"transport": "streamable_http", "url": self.url, "headers": dict(self.headers),
                    "timeout": self.timeout_seconds}
        return {"transport": "stdio", "command": self.command, "args": list(self.args), "env": self.env}


class _McpServersSetting(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    servers: dict[str, McpSearchServer] = Field(default_factory=dict, validation_alias=AliasChoices(VARIABLE))


def server_name(backend: str) -> str | None:
    """`web` for `mcp:web`; None for a backend name that is not an MCP one."""
    return backend[len(PREFIX):] if backend.startswith(PREFIX) else None


def configured_servers() -> dict[str, McpSearchServer]:
    """The servers in NEXA_MCP_SERVERS (read afresh); a bad value is a `ResearchInputError` naming the variable."""
    try:
        return _McpServersSetting().servers
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"][1:])
        raise ResearchInputError(
            f"{VARIABLE}{'.' + where if where else ''}: {exc.errors()[0]['msg']} "
            '(expected JSON like {"web": {"url": "http://host/mcp", "tool": "search"}})'
        ) from exc


def server_for(backend: str) -> tuple[str, McpSearchServer]:
    """The server `mcp:<name>` names; a `ResearchInputError` naming `search_backend` when it is not configured."""
    name = server_name(backend)
    servers = configured_servers()
    if not name or name not in servers:
        known = ", ".join(f"{PREFIX}{n}" for n in sorted(servers)) or f"none ({VARIABLE} is not set)"
        raise ResearchInputError(f"search_backend: {backend!r} is not a configured MCP server; configured: {known}")
    return name, servers[name]
