"""Server and worker settings, from NEXA_SERVER_* environment variables (pydantic-settings).

The recovery bound is the one operators reason about: a run whose worker was SIGKILLed is picked up by
another worker within about `recovery_seconds`. The lease TTL and the reaper's period follow from it (a third
and a sixth of it), so pick-up takes at most TTL + period + one queue read, about half the bound.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.asyncio import BlockingConnectionPool, Redis

# Longer than any blocking read the server makes (an SSE heartbeat's XREAD, the queue's XREADGROUP), and than an
# event loop stall, so a quiet stream or a busy worker is never mistaken for a dead Redis (redis-py's default is 5 s).
REDIS_SOCKET_TIMEOUT = 120.0


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEXA_SERVER_", extra="ignore")

    worker_concurrency: int = Field(default=4, ge=1, le=1000, description="Runs one worker executes at once.")
    worker_nice: int = Field(
        default=10, ge=0, le=19,
        description="Scheduling niceness a worker gives itself (0: unchanged), so the API and Redis on the same "
        "machine are not kept waiting for a core by runs; see bench/server.md.",
    )
    recovery_seconds: float = Field(
        default=60.0, ge=3.0, le=3600.0, description="Bound on picking up the run of a worker that died."
    )
    pending_rekick_seconds: float = Field(
        default=600.0, ge=5.0,
        description="A pending run with no message in the queue that no worker took for this long is queued again.",
    )
    shutdown_seconds: float = Field(
        default=30.0, ge=3.0, le=3600.0,
        description="Bound on a worker's stop (SIGTERM): its runs are handed back and the process exits within it.",
    )
    event_retention_seconds: int = Field(default=3600, ge=60, description="How long a finished run's events are kept.")
    retention_sweep_seconds: float = Field(
        default=30.0, ge=0.2, le=3600.0,
        description="How often an API process settles the threads runs ended on (NEXA_RETENTION_DAYS: their expiry).",
    )
    cron_seconds: float = Field(
        default=5.0, ge=0.2, le=3600.0,
        description="How often an API process looks for due crons: a cron's run is created within this of its time.",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest request body accepted (413 above).")
    heartbeat_seconds: float = Field(default=10.0, gt=0, description="SSE heartbeat comment interval.")
    redis_max_connections: int = Field(
        default=500, ge=10, description="Redis connections one process may open; more requests wait for one."
    )
    redis_pool_timeout_seconds: float = Field(default=20.0, gt=0, description="How long a request waits for one.")

    def redis_client(self, url: str) -> Redis:
        """A client whose pool waits for a free connection instead of failing the request past its size.

        Each waiting stream or join holds a connection in a blocking read, so a burst of them must queue, not 500.
        """
        pool = BlockingConnectionPool.from_url(
            url, max_connections=self.redis_max_connections, timeout=self.redis_pool_timeout_seconds,
            socket_timeout=REDIS_SOCKET_TIMEOUT,
        )
        return Redis.from_pool(pool)  # owned: closing the client closes the pool

    @property
    def lease_ttl_seconds(self) -> float:
        return self.recovery_seconds / 3

    @property
    def reaper_period_seconds(self) -> float:
        return self.recovery_seconds / 6
