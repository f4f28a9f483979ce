"""The Redis the checkpointer and caches use: the user's REDIS_URL, or the data folder's shared embedded Redis Stack.

How the embedded server is shared between processes, found, and stopped (also when idle) is providers/
redis_embedded.py; this module is what a run asks for (`ensure_redis_url`) and the errors a run can meet.
`EmbeddedRedis` is re-exported here as the one object tests, benchmarks and embedding code start servers with.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis
from redis.exceptions import ResponseError

from nexa_research.errors import NexaError
from nexa_research.providers.services.openssl import find_libssl11
from nexa_research.providers.services.redis_embedded import (
    EmbeddedRedis,
    EmbeddedRedisSettings,
    embedded_folder,
    ensure_server,
)
from nexa_research.providers.services.redis_folder import UNREACHABLE, tool_client
from nexa_research.providers.settings import ProviderSettings

__all__ = ["EmbeddedRedis", "RedisConnectionLostError", "RedisModulesMissingError", "RedisUnavailableError",
           "check_redis_modules", "ensure_redis_url", "ping", "redact_url"]  # fmt: skip

class RedisModulesMissingError(NexaError):
    """The Redis server lacks RedisJSON and/or RediSearch, which the checkpointer's indexes need."""


class RedisUnavailableError(NexaError):
    """The Redis server at the configured URL cannot be reached or refuses our commands."""


class RedisConnectionLostError(RedisUnavailableError):
    """The connection to Redis broke during a run (the server was killed, restarted, or the network went away).

    Raised by the checkpointer (providers/checkpointer.py) in place of redis-py/redisvl errors, so it comes out of
    `graph.ainvoke`, `aresearch` and `aresume`; a run's entry point catches it (or `RedisUnavailableError`, or
    `NexaError`). Checkpoints written before the loss stay: the run resumes from the last one with the same
    `thread_id` once Redis answers again. `url` is redacted; `thread_id` is None outside a thread.
    """

    def __init__(self, url: str, thread_id: str | None, cause: BaseException) -> None:
        self.url, self.thread_id = redact_url(url), thread_id
        how = (
            f"resume the run with thread_id={thread_id!r} (`nexa resume {thread_id}` or `aresume({thread_id!r})`)"
            if thread_id else "run it again"
        )  # fmt: skip
        super().__init__(
            f"lost the connection to Redis at {self.url} ({type(cause).__name__}: {cause}). The checkpoints "
            f"written so far are kept: once Redis answers again (the next run restarts the embedded one), {how}."
        )


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def ping(url: str, timeout: float = 2.0) -> bool:
    client = tool_client(url, timeout)
    try:
        return bool(client.ping())
    except UNREACHABLE:
        return False
    finally:
        client.close()


def ensure_redis_url(settings: ProviderSettings) -> str:
    """REDIS_URL when set; otherwise the data folder's shared embedded Redis Stack, started if none answers.

    Call it per run rather than keeping the URL: it is the lookup that keeps the server from idling out, and the
    one that restarts it after a stop. On a machine without OpenSSL 1.1 it raises `SetupRequiredError` (run
    `nexa setup`); it never installs or downloads anything.
    """
    if settings.redis_url:
        return settings.redis_url
    record, _ = ensure_server(
        embedded_folder(settings), find_libs=lambda: find_libssl11(settings),
        idle_minutes=EmbeddedRedisSettings().idle_minutes,
    )  # fmt: skip
    return record.url


def check_redis_modules(url: str, timeout: float = 5.0) -> None:
    """Raise `RedisModulesMissingError` unless the server at `url` answers RedisJSON and RediSearch commands.

    Probing commands (not MODULE LIST) also works where modules are built in (Redis 8) or MODULE is disallowed.
    """
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=None)
    missing = []
    try:
        for module, probe in (("RedisJSON", ("JSON.TYPE", "nexa:module-probe")), ("RediSearch", ("FT._LIST",))):
            try:
                client.execute_command(*probe)
            except ResponseError as exc:
                if "unknown command" not in str(exc).lower():
                    raise RedisUnavailableError(f"Redis at {redact_url(url)} refused {probe[0]}: {exc}") from exc
                missing.append(module)
    except UNREACHABLE as exc:
        raise RedisUnavailableError(f"cannot reach Redis at {redact_url(url)}: {exc}") from exc
    finally:
        client.close()
    if missing:
        raise RedisModulesMissingError(
            f"Redis at {redact_url(url)} lacks {'/'.join(missing)}; use Redis Stack (or Redis 8 with its modules) "
            "or unset REDIS_URL to use the embedded Redis Stack"
        )
