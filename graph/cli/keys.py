"""`nexa keys create|list|revoke|rotate`: the server's API keys, kept (hashed) in its Redis.

A key is printed once, when created or rotated; afterwards only its id, owner, tier and dates can be shown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

import typer
from redis.asyncio import Redis
from rich.console import Console

from nexa_research.errors import NexaError
from nexa_research.providers.settings import ProviderSettings

keys_app = typer.Typer(help="API keys of the server (every route but /ok, /health and /metrics needs one).")
console = Console(stderr=True)
T = TypeVar("T")


def _with_store(action: Callable[[Any], Awaitable[T]]) -> T:
    from nexa_research.providers.services.redis_server import ensure_redis_url
    from nexa_research.server.access.api_keys import KeyStore

    async def main() -> T:
        redis = Redis.from_url(ensure_redis_url(ProviderSettings.load()))
        try:
            return await action(KeyStore(redis))
        finally:
            await redis.aclose()

    try:
        return asyncio.run(main())
    except NexaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc


def _show_new(key: str, record: Any) -> None:
    console.print(f"key {record.key_id} for {record.owner} ({record.tier} tier); it is shown only now:")
    typer.echo(key)


@keys_app.command("create")
def create(
    owner: Annotated[str, typer.Option(help="Who the key is for (shown in lists and logs).")],
    tier: Annotated[str, typer.Option(help="free, pro or custom.")] = "free",
    daily_quota: Annotated[int | None, typer.Option(help="Runs per UTC day (default: the tier's).")] = None,
) -> None:
    """Create a key and print it (once)."""
    key, record = _with_store(lambda store: store.create(owner, tier, daily_quota))
    _show_new(key, record)


@keys_app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False) -> None:
    """Every key: id, owner, tier, quota, created, revoked."""
    records = _with_store(lambda store: store.list())
    for record in records:
        if as_json:
            typer.echo(json.dumps(asdict(record)))
        else:
            state = f"revoked {record.revoked_at}" if record.revoked else "live"
            quota = record.daily_quota if record.daily_quota is not None else "tier"
            typer.echo(f"{record.key_id}  {record.owner}  {record.tier}  quota={quota}  {record.created_at}  {state}")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (the part after nxr_).")]) -> None:
    """Revoke a key: refused from its next request on."""
    record = _with_store(lambda store: store.revoke(key_id))
    console.print(f"revoked {record.key_id} ({record.owner})")


@keys_app.command("rotate")
def rotate(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Issue a new key with the same owner, tier and quota; revoke the old one."""
    key, record = _with_store(lambda store: store.rotate(key_id))
    _show_new(key, record)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
