"""Process-wide registry of Qdrant clients, one per location, shared by every knowledge base that uses it.

Embedded Qdrant takes an exclusive file lock on its folder, so a second client on the same folder fails even
inside one process. The CLI, the server and parallel research branches all open knowledge bases; they share
the location's client through this registry, counted by reference, and the client closes with the last user.
Each entry carries a lock because the embedded client is plain Python state, not safe for concurrent calls.
Embedded queries also run with one BLAS thread (`one_blas_thread`), and embedded writes commit without an fsync
each (`relax_commit_sync`): see their docstrings for the measurements.
"""

from __future__ import annotations

import atexit
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from qdrant_client import QdrantClient
from qdrant_client.local.qdrant_local import QdrantLocal
from threadpoolctl import ThreadpoolController

logger = logging.getLogger(__name__)


@dataclass
class SharedClient:
    """One open client, the lock that serialises calls on it, and how many knowledge bases hold it."""

    client: QdrantClient
    lock: threading.RLock
    refs: int


_registry: dict[str, SharedClient] = {}
_registry_lock = threading.Lock()


def acquire_client(key: str, factory: Callable[[], QdrantClient]) -> SharedClient:
    """The client for `key` (a path or URL), made with `factory` on first use; one more reference to it."""
    with _registry_lock:
        shared = _registry.get(key)
        if shared is None:
            shared = SharedClient(client=factory(), lock=threading.RLock(), refs=0)
            _registry[key] = shared
        shared.refs += 1
        return shared


def release_client(key: str) -> None:
    """Drop one reference; the last one closes the client and frees the folder."""
    with _registry_lock:
        shared = _registry.get(key)
        if shared is None:
            return
        shared.refs -= 1
        if shared.refs <= 0:
            del _registry[key]
            shared.client.close()


@atexit.register
def _close_all() -> None:
    """Close embedded clients while the interpreter can still do it (qdrant's own __del__ fails at shutdown)."""
    with _registry_lock:
        shared = list(_registry.values())
        _registry.clear()
    for item in shared:
        item.client.close()


_blas: ThreadpoolController | None = None
_blas_lock = threading.RLock()  # a limit restores what it found: overlapping limits must not interleave


@contextmanager
def one_blas_thread(enabled: bool) -> Iterator[None]:
    """Embedded Qdrant ranks with one numpy matrix-vector product, a few milliseconds. Multi-threaded BLAS made it
    8 ms instead of 2 when the cores were busy, and its spinning threads slowed the next query embedding too."""
    global _blas
    if not enabled:
        yield
        return
    with _blas_lock:
        if _blas is None:
            _blas = ThreadpoolController()
        with _blas.limit(limits=1, user_api="blas"):
            yield


def relax_commit_sync(client: QdrantClient) -> None:
    """Let embedded Qdrant's SQLite files commit without waiting for the disk each time.

    Embedded Qdrant writes every point in its own SQLite transaction, and SQLite's defaults (rollback journal,
    synchronous=FULL) fsync each one: storing the 10,893 Wikipedia chunks spent 117 s in commits on this machine,
    4.5 s in WAL mode with synchronous=NORMAL (bench/kb.md). WAL with NORMAL never leaves a corrupt file after a
    crash; a power cut may lose the last commits, which re-running the idempotent ingest writes again.
    qdrant-client has no option for this, so the setting reaches into its local-mode objects; if they change
    shape, writes stay correct but slow, and a warning says so.
    """
    local = getattr(client, "_client", None)
    if not isinstance(local, QdrantLocal):
        return  # a Qdrant server manages its own storage
    for name, collection in local.collections.items():
        storage = getattr(collection, "storage", False)
        if storage is None:
            continue  # an in-memory collection
        connection = getattr(storage, "storage", None)
        if not isinstance(connection, sqlite3.Connection):
            logger.warning("embedded Qdrant collection %r: storage is not the SQLite file this qdrant-client version "
                           "was expected to use; every write will wait for the disk (slow ingest)", name)
            continue
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            logger.warning("embedded Qdrant collection %r: could not switch SQLite to WAL (%s); every write will "
                           "wait for the disk (slow ingest)", name, exc)
