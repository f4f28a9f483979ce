"""Redis memory as the soak (tests/support/soak.py) and the retention tests read it: once the expired documents'
index entries are freed, where it is, and how many thread keys are left."""

from __future__ import annotations

from redis.asyncio import Redis

THREAD_KEY_PATTERNS = ("checkpoint*", "write_keys_zset*", "nexa:srv:thread:*", "nexa:srv:run:*")


async def settled_memory(redis: Redis) -> int:
    """used_memory once RediSearch's garbage collector has freed expired documents' index entries (it runs every
    30 s by itself; forced here), less the clients' buffers (`mem_clients_normal`): those follow how many
    connections are open at that moment (an API restarted in a soak holds more pooled connections than at the
    baseline: +32 KB of a CI run's +157 KB), not what the runs left in Redis."""
    for index in ("checkpoint", "checkpoint_write"):
        await redis.execute_command("FT.DEBUG", "GC_FORCEINVOKE", index)
    info = await redis.info("memory")
    return int(info["used_memory"]) - int(info["mem_clients_normal"])


async def memory_breakdown(redis: Redis) -> dict[str, int]:
    """Where Redis's memory is: its own accounts (INFO memory), the bytes of the keys under each prefix, and the
    document ids each search index has handed out (RediSearch keeps about 20 bytes per id ever used: its document
    table, which never shrinks and stops growing at MAXDOCTABLESIZE ids, 1,000,000 by default; bench/server.md)."""
    info = await redis.info("memory")
    found = {name: int(info[name]) for name in ("used_memory", "used_memory_dataset", "used_memory_overhead",
                                                 "mem_clients_normal", "used_memory_scripts")}
    found["keys"] = int(await redis.dbsize())
    for index in await redis.execute_command("FT._LIST"):
        found[f"index {_text(index)} max_doc_id"] = int((await redis.ft(_text(index)).info())["max_doc_id"])
    async for key in redis.scan_iter(count=1000):
        prefix = ":".join(_text(key).split(":")[:3])
        found[f"keys {prefix}"] = found.get(f"keys {prefix}", 0) + int(await redis.memory_usage(key) or 0)
    return found


def key_bytes(breakdown: dict[str, int], leave_out: tuple[str, ...] = ()) -> int:
    """The bytes of every key in a `memory_breakdown`, less the prefixes left out."""
    return sum(v for k, v in breakdown.items() if k.startswith("keys ") and k.removeprefix("keys ") not in leave_out)


async def thread_keys(redis: Redis) -> list[str]:
    """Keys of threads and runs left in Redis: checkpoints, their writes and registries, the server's records."""
    return [_text(key) for pattern in THREAD_KEY_PATTERNS async for key in redis.scan_iter(match=pattern, count=1000)]


async def thread_key_count(redis: Redis) -> int:
    return len(await thread_keys(redis))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
