"""The embedded llama.cpp server: the default LLM when no remote endpoint is configured.

Why in-process (xllamacpp) rather than a subprocess: nothing to install or compile, and the server dies with
the process. It still speaks HTTP on 127.0.0.1, so every role reaches it through the same ChatOpenAI path as
any remote endpoint (streaming, retries, JSON-schema structured output enforced by llama.cpp's grammar).

One server per distinct (model, context, slots, threads) per process, started on first use under a lock and
stopped at interpreter exit. Each process gets a random API key, because llama.cpp answers any origin (CORS
"*"): without a key, any web page open on this machine could use the model.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from nexa_research.errors import ServiceStartError
from nexa_research.providers.llm.endpoints import Endpoint
from nexa_research.providers.llm.model_file import model_header, resolve_model_path
from nexa_research.providers.settings import ProviderSettings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 60.0
PROMPT_CACHE_MIB = 256  # llama.cpp's default keeps up to 8 GiB of old prompts in RAM

# llama.cpp closes the connection after every streamed answer while still advertising keep-alive, so a
# client that reuses it at once gets "Server disconnected" (15 of 50 back-to-back streams here). Asking for
# a fresh connection per request costs nothing on loopback. Pass as ChatOpenAI(default_headers=...).
LOCAL_HTTP_HEADERS: dict[str, str] = {"Connection": "close"}

# Sampling knobs OpenAI's API lacks, sent as extra_body; chosen by experiment on the 0.5B default model with
# the project's own prompts (bench/local_llm.md). Without a repeat penalty it loops: planner, collator and
# synthesizer answers repeated 45-93% of their 4-grams, the synthesizer ran into max_tokens. 1.1 over the last
# 256 tokens fixed the JSON roles (5-18%; JSON stays valid, the grammar enforces it); the collator needs the
# long window (64 tokens left it at 68%). The synthesizer gets a 64-token window: its repetition was lowest and
# most even (8-11%) at ~470 words, while 1.15 or 256 tokens gave shorter, more uneven sections. top_k, top_p
# and min_p are llama.cpp's defaults, pinned so a server upgrade does not silently change them.
_BASE = {"top_k": 40, "top_p": 0.95, "min_p": 0.05}
_ROLE_SAMPLING: dict[str, dict[str, Any]] = {
    "planner": {**_BASE, "repeat_penalty": 1.1, "repeat_last_n": 256},
    "query_writer": {**_BASE, "repeat_penalty": 1.1, "repeat_last_n": 64},
    "reflection": {**_BASE, "repeat_penalty": 1.1, "repeat_last_n": 256},
    "synthesizer": {**_BASE, "repeat_penalty": 1.1, "repeat_last_n": 64},
    "collator": {**_BASE, "repeat_penalty": 1.1, "repeat_last_n": 256},
}
_DEFAULT_SAMPLING = _ROLE_SAMPLING["collator"]


# Output budgets measured on the default 0.5B model (bench/local_llm.md): what each role needs plus headroom.
# The design's seed budgets (2000-4000 tokens) only cost minutes on 2 cores when a small model starts looping.
_LOCAL_BUDGETS = {"planner": 1500, "query_writer": 100, "reflection": 300, "synthesizer": 1200, "collator": 1200}


def local_output_budget(role: str, default: int) -> int:
    """The embedded model's output budget for a role whose budget the caller left at the design default."""
    return min(default, _LOCAL_BUDGETS.get(role, default))


def local_sampling_extras(role: str) -> dict[str, Any]:
    """llama.cpp-only sampling settings for a role (extra_body of the chat request); a copy, safe to change."""
    return dict(_ROLE_SAMPLING.get(role, _DEFAULT_SAMPLING))


# llama.cpp names the kind of an error answer in `error.type`; these two need words a user can act on.
_LLAMA_ERROR_HINTS = {
    "exceed_context_size_error": "the prompt is longer than the model's context per slot: raise NEXA_LOCAL_CTX, "
    "or lower context_token_budget",
    "unavailable_error": "the llama.cpp server is still loading its model",
}


def llama_error_hint(error_type: object) -> str | None:
    """What to do about a llama.cpp error answer (providers/llm/failures.py adds it to the reason), if known."""
    return _LLAMA_ERROR_HINTS.get(error_type) if isinstance(error_type, str) else None


@dataclass(frozen=True)
class LocalServerSpec:
    """What makes two servers interchangeable: same model file, per-slot context, slots and threads."""

    model_path: Path
    ctx_per_slot: int
    parallel: int
    threads: int

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> LocalServerSpec:
        path = resolve_model_path(settings).resolve()
        return cls(path, _fit_ctx(path, settings.local_ctx), settings.local_parallel, settings.local_threads)


def _fit_ctx(path: Path, wanted: int) -> int:
    """The per-slot context, capped at what the model was trained for (longer only degrades output)."""
    meta = model_header(path).metadata
    trained = meta.get(f"{meta.get('general.architecture')}.context_length")
    if isinstance(trained, int) and 0 < trained < wanted:
        log.warning("NEXA_LOCAL_CTX=%d exceeds %s's trained context %d; using %d", wanted, path.name, trained, trained)
        return trained
    return wanted


class LocalLLMServer:
    """A llama.cpp OpenAI-compatible server running inside this process on 127.0.0.1."""

    def __init__(self, spec: LocalServerSpec, port: int = 0) -> None:
        self.spec = spec
        self.requested_port = port  # 0: the OS picks a free port at bind time (no race with other services)
        self.api_key = secrets.token_urlsafe(24)
        self._server: Any = None
        self._address: str | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def root_url(self) -> str:
        if self._address is None:
            raise ServiceStartError(f"local LLM server for {self.spec.model_path} is not running")
        return self._address

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (`.../v1`)."""
        return f"{self.root_url}/v1"

    @property
    def port(self) -> int:
        return int(self.root_url.rsplit(":", 1)[1])

    def endpoint(self) -> Endpoint:
        return Endpoint(kind="local", base_url=self.base_url, api_key=self.api_key, default_model=self.spec.model_path.stem)

    def start(self) -> None:
        """Load the model and serve; a no-op when already running. Failures are `ServiceStartError`."""
        with self._lock:
            if self._server is not None:
                return
            try:
                import xllamacpp
            except ImportError as exc:
                raise ServiceStartError(
                    "the embedded LLM needs xllamacpp: pip install 'nexa-research[local]' "
                    "(or set OPENAI_API_KEY / OPENROUTER_API_KEY / NEXA_LLM_BASE_URL)"
                ) from exc
            where = f"{HOST}:{self.requested_port or '<free port>'}"
            started = time.monotonic()
            try:
                server = xllamacpp.Server(self._params(xllamacpp))
            except RuntimeError as exc:
                raise ServiceStartError(
                    f"llama.cpp server did not start with model {self.spec.model_path} on {where}: {exc} "
                    f"(set NEXA_LOCAL_MODEL to another .gguf, or lower NEXA_LOCAL_CTX / NEXA_LOCAL_PARALLEL)"
                ) from exc
            self._server, self._address = server, str(server.listening_address).rstrip("/")
            try:
                self._wait_healthy()
            except ServiceStartError:
                self._stop_locked()
                raise
            log.info(
                "local LLM %s serving on %s (%d slots x %d ctx, %d threads) after %.1fs",
                self.spec.model_path.name, self._address, self.spec.parallel, self.spec.ctx_per_slot,
                self.spec.threads, time.monotonic() - started,
            )

    def _params(self, xllamacpp: Any) -> Any:
        p = xllamacpp.CommonParams()
        p.model.path = str(self.spec.model_path)
        p.hostnames = [HOST]
        p.port = self.requested_port
        p.api_keys = [self.api_key]
        # llama.cpp divides n_ctx among the slots; size the total so each slot gets its full context.
        p.n_parallel = self.spec.parallel
        p.n_ctx = self.spec.ctx_per_slot * self.spec.parallel
        p.kv_unified = False
        p.cpuparams.n_threads = self.spec.threads
        p.cpuparams_batch.n_threads = self.spec.threads
        p.cache_ram_mib = PROMPT_CACHE_MIB
        p.ui = False
        p.verbosity = 3 if log.isEnabledFor(logging.DEBUG) else 1  # llama.cpp writes straight to stderr
        return p

    def _wait_healthy(self) -> None:
        url = f"{self.root_url}/health"
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last = "no answer"
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                try:
                    resp = client.get(url)
                    if resp.status_code == 200:
                        return
                    last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                time.sleep(0.1)
        raise ServiceStartError(
            f"llama.cpp server for {self.spec.model_path} on port {self.port} was not healthy after "
            f"{HEALTH_TIMEOUT_S:.0f}s ({last})"
        )

    def stop(self) -> None:
        """Stop serving and free the model. Dropping the last reference runs llama.cpp's shutdown and joins its threads."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        server, self._server, self._address = self._server, None, None
        if server is not None:
            del server
            log.info("local LLM server for %s stopped", self.spec.model_path.name)


_registry_lock = threading.Lock()
_servers: dict[LocalServerSpec, LocalLLMServer] = {}


def local_server(settings: ProviderSettings) -> LocalLLMServer:
    """The running server for these settings, started (and the default model assembled) on first use."""
    spec = LocalServerSpec.from_settings(settings)
    with _registry_lock:
        server = _servers.get(spec)
        if server is None:
            server = _servers[spec] = LocalLLMServer(spec)
    server.start()
    return server


def local_endpoint(settings: ProviderSettings) -> Endpoint:
    """The embedded server as an OpenAI-compatible endpoint; raises `ModelAssetError` or `ServiceStartError`."""
    return local_server(settings).endpoint()


def embedded_base_urls() -> set[str]:
    """Base URLs of the embedded servers running in this process (a new port each run; the model is what counts)."""
    with _registry_lock:
        return {f"{server._address}/v1" for server in _servers.values() if server._address is not None}


def stop_local_server() -> None:
    """Stop every embedded server this process started (also run at interpreter exit)."""
    with _registry_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()


def _forget_after_fork() -> None:
    """A forked child has the parent's server objects but not its threads: never free them, start afresh.

    Freeing one would join threads that do not exist in the child (a crash), so each is leaked on purpose.
    multiprocessing's fork children leave through os._exit and are fine; a forked child that exits normally
    hangs in xllamacpp's own static destructors, which nothing here can prevent.
    """
    global _registry_lock
    for server in _servers.values():
        if server._server is not None:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(server._server))
    _servers.clear()
    _registry_lock = threading.Lock()


atexit.register(stop_local_server)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)

__all__ = [
    "LOCAL_HTTP_HEADERS",
    "LocalLLMServer",
    "LocalServerSpec",
    "llama_error_hint",
    "local_endpoint",
    "local_output_budget",
    "local_sampling_extras",
    "local_server",
    "stop_local_server",
]
