"""The process that hosts a data folder's shared llama.cpp server: detached, nobody's child, stopping itself when idle.

Why a process of its own: every process that researched on the embedded default (a CLI run, each worker of
`nexa serve`, Studio) used to load its own llama.cpp server with a thread per core. On 2 cores two runs at once took
2.28x one run's time: llama.cpp's threads wait for each other at every step, so over-subscribed cores stall them
all. One server per machine (data folder) with a slot per concurrent request batches every process's requests on
the cores instead, and loads the model once.

`python -P model_host.py FOLDER --model PATH --ctx N --parallel N --threads N --idle-minutes M [--port P]`, started
detached by providers/llm/model_launch.py with the API key in its environment (a command line is world-readable).
It loads the model, waits until llama.cpp answers /health, writes the folder's record (providers/llm/model_folder.py)
and from then on only watches for idleness. It stops after its idle minutes without a lookup and without a request,
never while a request is answered or waits for a slot, and the final check holds the folder's lock exclusively, so
no process can be handed its URL between that check and the exit. It also exits when its record is removed or
replaced (`nexa services stop` removes it, then signals the host).

Run by path with -P (nothing from its folder on sys.path), it loads model_folder.py by file: importing the package
would cost about 2 s of CPU and 100 MB before the model loads. It imports xllamacpp and the standard library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any


def _load_sibling(name: str) -> ModuleType:
    """A module of this folder, loaded by its path (importlib's recipe for importing a source file directly)."""
    spec = importlib.util.spec_from_file_location(f"nexa_model_host_{name}", Path(__file__).with_name(f"{name}.py"))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name}.py beside {__file__}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING or __package__:
    from nexa_research.providers.llm import model_folder
else:  # run by path in the detached host
    model_folder = _load_sibling("model_folder")

logger = logging.getLogger("nexa_research.providers.llm.model_host")  # also when run by path

HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 120.0  # loading takes 1-6 s here; far longer means a machine too loaded to serve anyway
PROMPT_CACHE_MIB = 256  # llama.cpp's default keeps up to 8 GiB of old prompts in RAM
# llama.cpp's counters of work done: when one moved since the last look, a request was answered in between.
_WORK_COUNTERS = ("llamacpp:n_decode_total", "llamacpp:prompt_tokens_total", "llamacpp:prompt_tokens_cached_total")


@dataclass
class IdleWatch:
    """The idle rule. Use is a lookup (the date of the folder's lock file), a request in flight or waiting for a
    slot, or a request answered since the last look: a run that looked the host up once and then keeps sending
    requests keeps it alive by the requests alone."""

    idle_seconds: float
    last_busy: float
    counters: tuple[float, ...] = ()

    def observe(self, metrics: dict[str, float], now: float) -> None:
        counters = tuple(metrics.get(name, 0.0) for name in _WORK_COUNTERS)
        if model_folder.in_flight(metrics) or counters != self.counters:
            self.last_busy = now
        self.counters = counters

    def idle(self, last_lookup: float, now: float) -> bool:
        return now - max(self.last_busy, last_lookup) >= self.idle_seconds


def poll_seconds(idle_seconds: float) -> float:
    """Ten looks per idle period, between 0.5 s and 30 s: a look is one metrics task on llama.cpp's queue."""
    return min(30.0, max(0.5, idle_seconds / 10))


def watch(
    folder: Path,
    record: model_folder.HostRecord,
    sample: Callable[[], dict[str, float]],
    stop: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Watch the host of `record` until it is idle or no longer recorded; return why the watch ended.

    `sample` reads llama.cpp's metrics. `stop` is called under the folder's exclusive lock with the record already
    removed; in the host it exits the process there, so the lock is only released once the host is gone.
    """
    idle_seconds = record.idle_minutes * 60
    rule = IdleWatch(idle_seconds, time.time())
    while True:
        sleep(poll_seconds(idle_seconds) if idle_seconds > 0 else 30.0)
        if model_folder.read_record(folder) != record:
            return "its record was removed or replaced: another process stopped it"
        if idle_seconds <= 0:
            continue
        rule.observe(sample(), time.time())
        if not rule.idle(model_folder.last_lookup(folder), time.time()):
            continue
        try:
            with model_folder.locked(folder, exclusive=True, timeout=1.0):
                rule.observe(sample(), time.time())
                if model_folder.read_record(folder) == record and rule.idle(model_folder.last_lookup(folder), time.time()):
                    reason = f"stopped after {record.idle_minutes:g} idle minutes"
                    model_folder.remove_record(folder)
                    stop(reason)
                    return reason
        except model_folder.LockTimeout:
            continue  # a start, stop or lookup holds the lock: not idle now


def llama_params(xllamacpp: Any, args: argparse.Namespace, api_key: str, port: int) -> Any:
    p = xllamacpp.CommonParams()
    p.model.path = args.model
    p.hostnames = [HOST]
    p.port = port
    p.api_keys = [api_key]
    # llama.cpp divides n_ctx among the slots; size the total so each slot gets its full context.
    p.n_parallel = args.parallel
    p.n_ctx = args.ctx * args.parallel
    p.kv_unified = False
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    # A request holds an HTTP thread while it waits for a slot; llama.cpp's default (slots + 2) would leave the
    # callers beyond that in the accept queue, where neither the metrics nor the idle rule see them.
    p.n_threads_http = 4 * args.parallel
    p.cache_ram_mib = PROMPT_CACHE_MIB
    p.endpoint_metrics = True  # requests in flight, for the idle rule and `nexa services status`
    p.ui = False
    p.verbosity = args.verbosity
    return p


def serve(xllamacpp: Any, args: argparse.Namespace, api_key: str) -> tuple[Any, str]:
    """Start llama.cpp's server: on the port asked for (the crashed host's, so its clients' URL stays valid) when it
    is free, else on one the OS picks. Returns (server, root URL); RuntimeError when it cannot load the model."""
    ports = [args.port, 0] if args.port else [0]
    for port in ports:
        try:
            server = xllamacpp.Server(llama_params(xllamacpp, args, api_key, port))
        except RuntimeError:
            if port == ports[-1]:
                raise
            logger.warning("port %d is taken; letting the OS pick one", port)
            continue
        return server, str(server.listening_address).rstrip("/")
    raise RuntimeError("no port to serve on")  # unreachable: the last port raises or returns


def wait_healthy(url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if model_folder.get(f"{url}/health")[0] == 200:
            return True
        time.sleep(0.1)
    return False


def exit_now(reason: str, code: int = 0) -> None:
    """Log why and leave at once. os._exit skips xllamacpp's static destructors, which can hang at a normal exit;
    the kernel frees the model and the port, and closing the process's descriptors releases the folder's lock."""
    (logger.info if code == 0 else logger.error)(reason)
    logging.shutdown()
    os._exit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Host a data folder's shared llama.cpp server (started by nexa).")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", required=True)
    parser.add_argument("--ctx", type=int, required=True, help="context per slot")
    parser.add_argument("--parallel", type=int, required=True, help="slots")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--idle-minutes", type=float, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--verbosity", type=int, default=1, help="llama.cpp's log level (3: debug)")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    folder = args.folder
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format=f"%(asctime)s nexa model host {os.getpid()}: %(message)s")  # fmt: skip
    api_key = os.environ.pop(model_folder.KEY_ENV, "")
    if not api_key:
        logger.error("no API key in %s: the host is started by nexa, not by hand", model_folder.KEY_ENV)
        return 2
    os.chdir(folder)  # hold no other folder open (a test's temporary one, say)
    try:
        import xllamacpp
    except ImportError as exc:
        logger.error("cannot import xllamacpp (%s): pip install 'nexa-research[local]'", exc)
        return 2
    started = time.monotonic()
    try:
        server, url = serve(xllamacpp, args, api_key)
    except RuntimeError as exc:
        logger.error("llama.cpp server did not start with model %s on %s: %s", args.model, HOST, exc)
        return 1
    if not wait_healthy(url):
        exit_now(f"llama.cpp on {url} was not healthy after {HEALTH_TIMEOUT_S:.0f} s", code=1)
    record = model_folder.HostRecord(os.getpid(), url, api_key, args.model, args.ctx, args.parallel, args.threads,
                                     args.idle_minutes, time.time())  # fmt: skip
    model_folder.write_record(folder, record)
    logger.info("serving %s on %s (%d slots x %d ctx, %d threads) after %.1f s; %s", Path(args.model).name, url,
                args.parallel, args.ctx, args.threads, time.monotonic() - started,
                f"stops after {args.idle_minutes:g} idle minutes" if args.idle_minutes > 0 else "no idle stop")  # fmt: skip
    reason = watch(folder, record, lambda: model_folder.parse_metrics(server.handle_metrics()), exit_now)
    exit_now(reason)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
