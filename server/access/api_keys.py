"""API keys: created by an operator (`nexa keys create`), shown once, stored only as a salted hash in Redis.

A key reads `nxr_<key id>_<secret>`: the id (12 hex characters) finds the record, the secret (32 random bytes,
URL-safe) proves possession. The record holds a random salt and HMAC-SHA256(salt, secret). A fast hash is right
here: a key is 256 random bits, not a password a person chose, so there is nothing to guess and nothing for a
slow hash to protect; the check costs microseconds on every request. Comparison is constant-time.

Revoking marks the record; a revoked key is refused on its next request (the record is read on every
request, never cached). Rotating issues a new secret under a new id with the same owner, tier and quota, and
revokes the old key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

from nexa_research.errors import ResearchInputError
from nexa_research.server.access.tiers import TIERS
from nexa_research.server.records import PREFIX, now_iso

KEYS = f"{PREFIX}:keys"


def key_record_key(key_id: str) -> str:
    return f"{PREFIX}:key:{key_id}"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    owner: str
    tier: str
    daily_quota: int | None  # None: the tier's
    created_at: str
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _digest(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


def parse_key(presented: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key; None otherwise."""
    parts = presented.strip().split("_")
    if len(parts) != 3 or parts[0] != "nxr" or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1], parts[2]


class KeyStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def create(self, owner: str, tier: str, daily_quota: int | None = None) -> tuple[str, ApiKey]:
        """A new key: (the key itself, to show once; its record)."""
        if tier not in TIERS:
            raise ResearchInputError(f"tier: {tier!r} is not a tier; tiers are {', '.join(TIERS)}")
        if not owner.strip():
            raise ResearchInputError("owner: must not be empty")
        if daily_quota is not None and daily_quota < 0:
            raise ResearchInputError("daily_quota: must be 0 or more")
        key_id, salt = secrets.token_hex(6), secrets.token_hex(16)
        secret = secrets.token_urlsafe(32).replace("_", "-")  # '_' separates the parts of a key
        record = ApiKey(key_id, owner.strip(), tier, daily_quota, now_iso())
        stored = {**asdict(record), "salt": salt, "hash": _digest(salt, secret)}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key_record_key(key_id), json.dumps(stored))
            pipe.sadd(KEYS, key_id)
            await pipe.execute()
        return f"nxr_{key_id}_{secret}", record

    async def _stored(self, key_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(key_record_key(key_id))
        return json.loads(raw) if raw else None

    async def verify(self, presented: str) -> ApiKey | None:
        """The key's record if `presented` is a live key; None for anything else (unknown, wrong, revoked)."""
        parsed = parse_key(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        stored = await self._stored(key_id)
        if stored is None or not hmac.compare_digest(stored["hash"], _digest(stored["salt"], secret)):
            return None
        record = _record(stored)
        return None if record.revoked else record

    async def get(self, key_id: str) -> ApiKey | None:
        stored = await self._stored(key_id)
        return _record(stored) if stored else None

    async def list(self) -> list[ApiKey]:
        ids = sorted(i.decode() if isinstance(i, bytes) else i for i in await self.redis.smembers(KEYS))
        records = [await self.get(i) for i in ids]
        return sorted((r for r in records if r is not None), key=lambda r: r.created_at)

    async def revoke(self, key_id: str) -> ApiKey:
        stored = await self._stored(key_id)
        if stored is None:
            raise ResearchInputError(f"key_id: no key {key_id!r}")
        stored["revoked_at"] = stored.get("revoked_at") or now_iso()
        await self.redis.set(key_record_key(key_id), json.dumps(stored))
        return _record(stored)

    async def rotate(self, key_id: str) -> tuple[str, ApiKey]:
        old = await self.get(key_id)
        if old is None or old.revoked:
            raise ResearchInputError(f"key_id: no live key {key_id!r} to rotate")
        created = await self.create(old.owner, old.tier, old.daily_quota)
        await self.revoke(key_id)
        return created


def _record(stored: dict[str, Any]) -> ApiKey:
    fields: dict[str, Any] = {k: stored.get(k) for k in ApiKey.__dataclass_fields__}
    return ApiKey(**fields)
