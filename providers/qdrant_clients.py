"""Process-wide registry of Qdrant clients, one per location, shared by every knowledge base that uses it.

Embedded Qdrant takes an exclusive file lock on its folder, so a second client on the same folder fails even
inside one process. The CLI, the server and parallel research branches all open knowledge bases; they share
the location's client through this registry, counted by reference, and the client closes with the last user.
Each entry carries a lock because the embedded client is plain Python state, not safe for concurrent calls.
Embedded queries also run with one BLAS thread (`one_blas_thread`): see its docstring for the measurement.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from qdrant_client import QdrantClient
from threadpoolctl import ThreadpoolController


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
