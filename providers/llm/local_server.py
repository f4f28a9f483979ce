"""The embedded llama.cpp server: the default LLM when no remote endpoint is configured.

It is one server per machine (data folder), shared by every process that uses the embedded default: a CLI run,
each worker of `nexa serve`, Studio, a notebook. It runs in a detached host process that nobody owns, found through
the data folder (`<data>/local-llm/<model>-<hash>/host.json`), started by whichever process needs it first, and
stopped by `nexa services stop` or after NEXA_LOCAL_IDLE_MINUTES without use (providers/llm/model_launch.py, which
also says why; the host is providers/llm/model_host.py). Before, each process loaded its own server with a thread
per core, and two runs at once on 2 cores took 2.28x one run's time.

It speaks HTTP on 127.0.0.1, so every role reaches it through the same ChatOpenAI path as any remote endpoint
(streaming, retries, JSON-schema structured output enforced by llama.cpp's grammar). It requires an API key, kept in
the folder's record with mode 0600, because llama.cpp answers any origin (CORS "*"): without a key, any web page open
on this machine could use the model. This module is what a run asks for (`local_endpoint`) and the llama.cpp-only
request settings: sampling per role, output budgets, error hints.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from nexa_research.providers.llm.endpoints import Endpoint
from nexa_research.providers.llm.model_folder import HostRecord
from nexa_research.providers.llm.model_launch import LocalServerSpec, ensure_host, hosts_root, stop_hosts
from nexa_research.providers.settings import ProviderSettings

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
class LocalModelServer:
    """The shared server as one lookup found it (or started it): its spec and its record."""

    spec: LocalServerSpec
    record: HostRecord

    @property
    def root_url(self) -> str:
        return self.record.url

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (`.../v1`)."""
        return f"{self.record.url}/v1"

    @property
    def port(self) -> int:
        return self.record.port

    @property
    def api_key(self) -> str:
        return self.record.api_key

    def endpoint(self) -> Endpoint:
        return Endpoint(kind="local", base_url=self.base_url, api_key=self.api_key, default_model=self.spec.model_path.stem)


_seen_lock = threading.Lock()
_seen: set[str] = set()


def local_server(settings: ProviderSettings) -> LocalModelServer:
    """The data folder's shared server for these settings, started (and the default model assembled) when none runs.

    Call it per use rather than keeping the result: the lookup is what keeps the server from idling out, and what
    starts a new one after a stop or a crash."""
    spec = LocalServerSpec.from_settings(settings)
    record, _ = ensure_host(spec, hosts_root(settings), idle_minutes=settings.local_idle_minutes)
    server = LocalModelServer(spec, record)
    with _seen_lock:
        _seen.add(server.base_url)
    return server


def local_endpoint(settings: ProviderSettings) -> Endpoint:
    """The embedded server as an OpenAI-compatible endpoint; raises `ModelAssetError` or `ServiceStartError`."""
    return local_server(settings).endpoint()


def embedded_base_urls() -> set[str]:
    """Base URLs of the embedded servers this process was handed (a server's port changes when it restarts; the
    model is what shapes a report)."""
    with _seen_lock:
        return set(_seen)


def stop_local_server(settings: ProviderSettings | None = None) -> list[HostRecord]:
    """Stop every shared local model server of the data folder (all specs); what was stopped. Runs using one see
    their requests fail; their next call starts a new one."""
    return stop_hosts(hosts_root(settings or ProviderSettings.load()))


__all__ = [
    "LOCAL_HTTP_HEADERS",
    "LocalModelServer",
    "LocalServerSpec",
    "embedded_base_urls",
    "llama_error_hint",
    "local_endpoint",
    "local_output_budget",
    "local_sampling_extras",
    "local_server",
    "stop_local_server",
]
