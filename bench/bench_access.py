"""What the access layer costs per request, and whether the daily quota holds under a burst (issue 10).

    .venv/bin/python bench/bench_access.py [--burst 1000] [--limit 100] [--processes 4] [--requests 2000]
                                           [--http-requests 1000] [--runs 200]

Everything runs against a throwaway embedded Redis Stack (a temporary folder, stopped at the end).
1. Quota: `Quotas.admit` for one key with a daily limit of 100, called `--burst` times at once (asyncio.gather)
   on one client: the client as ServerContext makes it, a waiting pool of 100, a pool as large as the burst (cold,
   then warm); then `--processes` processes doing their share at once behind a barrier; then one check at a time.
   Exactly `--limit` must be admitted and counted in Redis (else exit 1); calls that raise may admit fewer.
2. In process, no network: the real app (`create_app`, its lifespan open) driven through httpx's ASGI transport,
   `GET /threads/{id}` and `POST /runs`, auth required (a key) against auth off, each with and without the HTTP
   metrics middleware; rounds of the variants are interleaved so load changes hit them alike. The pieces alone too:
   a rate-limit hit, a key check, HttpMetrics around a one-route Starlette app.
3. Over HTTP: two uvicorn API processes (auth required, auth off) on the same Redis, no worker; sequential
   requests with keep-alive, interleaved rounds; then 50 to 400 GETs at once, counting the answers by status.
Created runs are cancelled (untimed) so the key's runs-in-progress stay under the tier's cap of 20. Request rate
limits are raised out of the way (they are measured, not exercised). Prints markdown tables for bench/access.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RUN_BODY = {"assistant_id": "nexa_research", "input": {"topic": "The printing press"}}
HIGH_RATE = 10**7  # requests per minute: the limiter runs on every request but never refuses


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(values: list[float]) -> str:
    return f"{pct(values, 0.5) * 1000:.3f} | {pct(values, 0.95) * 1000:.3f}"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def table(title: str, rows: list[tuple[str, list[float]]], base: list[float] | None = None) -> None:
    print(f"\n{title} (load {load()})\n\n| what | n | p50 ms | p95 ms | p50 over base ms |\n"
          "| --- | --- | --- | --- | --- |")
    for name, values in rows:
        extra = f"{(pct(values, 0.5) - pct(base, 0.5)) * 1000:+.3f}" if base is not None else "-"
        print(f"| {name} | {len(values):,} | {ms(values)} | {extra} |")


# --- 1. the quota under a burst -------------------------------------------------------------------------------

async def _burst(redis, key_id: str, n: int, limit: int, first: int = 0) -> tuple[int, int, list[float], float]:
    """(admitted, calls that raised, latency of each call that answered, wall time) of `n` checks at once."""
    from nexa_research.server.access.quota import Quotas

    quotas = Quotas(redis)

    async def one(i: int) -> tuple[bool, float]:
        start = time.perf_counter()
        admission = await quotas.admit(key_id, f"run-{i}", daily_limit=limit, concurrent_limit=10**6)
        return admission.admitted, time.perf_counter() - start

    start = time.perf_counter()
    results = await asyncio.gather(*(one(first + i) for i in range(n)), return_exceptions=True)
    wall = time.perf_counter() - start
    answered = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"  {len(errors)} of {n} checks raised, e.g. {type(errors[0]).__name__}: {errors[0]}", file=sys.stderr)
    return sum(ok for ok, _ in answered), len(errors), [t for _, t in answered], wall


async def _counted(redis, key_id: str, url: str | None = None) -> tuple[int, int]:
    """(the key's day counter, its runs in progress) as Redis holds them; on a client of its own with `url`."""
    from redis.asyncio import Redis

    from nexa_research.server.access.quota import Quotas
    from nexa_research.server.records import running_runs_key

    own = Redis.from_url(url) if url else None
    client = own or redis
    try:
        return await Quotas(client).used_today(key_id), await client.zcard(running_runs_key(key_id))
    finally:
        if own is not None:
            await own.aclose()


def _check(what: str, admitted: int, errors: int, counted: tuple[int, int], limit: int) -> None:
    """Exactly `limit` admitted (at most, when calls raised) and Redis counted exactly those; exit 1 otherwise."""
    if (admitted > limit or (not errors and admitted < limit)) or counted != (admitted, admitted):
        print(f"OVER/UNDER-ADMISSION in {what}: admitted {admitted}, day counter and runs in progress {counted}, "
              f"limit {limit}", file=sys.stderr)
        raise SystemExit(1)


async def quota_in_one_process(url: str, n: int, limit: int) -> None:
    from redis.asyncio import BlockingConnectionPool, Redis

    print(f"\n{n:,} quota checks at once on one key, daily limit {limit} (load {load()})\n\n"
          "| client, burst | admitted | raised | day counter, runs in progress | per check p50 ms | p95 ms | "
          "burst wall ms | checks/s | Redis clients after |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    pools = {  # ServerContext's client is Redis.from_url(url): redis-py 8's pool of 100 that raises when exhausted
        "as the server makes it (pool of 100, raises when exhausted)": lambda: Redis.from_url(url),
        "pool of 100 that waits for a free connection": lambda: Redis(
            connection_pool=BlockingConnectionPool.from_url(url, max_connections=100, timeout=60)),
        f"pool of {n:,} (a connection per check)": lambda: Redis.from_url(url, max_connections=n),
    }
    for number, (label, make) in enumerate(pools.items()):
        redis = make()
        for warmth in ("cold", "warm") if number else ("cold",):
            key_id = f"burst-{number}-{warmth}"
            admitted, errors, times, wall = await _burst(redis, key_id, n, limit)
            counted = await _counted(redis, key_id)
            _check(f"{label}, {warmth}", admitted, errors, counted, limit)
            clients = (await redis.info("clients"))["connected_clients"]
            print(f"| {label}, {warmth} | {admitted} | {errors} | {counted[0]}, {counted[1]} | {ms(times)} | "
                  f"{wall * 1000:.1f} | {(n - errors) / wall:,.0f} | {clients} |")
        await redis.aclose()
        await redis.connection_pool.disconnect()  # a pool passed in is not closed with its client


async def quota_one_at_a_time(url: str, n: int, limit: int) -> None:
    from redis.asyncio import Redis

    from nexa_research.server.access.quota import Quotas

    redis = Redis.from_url(url)
    quotas = Quotas(redis)
    sequential: dict[str, list[float]] = {"admitted": [], "refused (day used up)": []}
    for label, key_id, daily in (("admitted", "seq-ok", 10**9), ("refused (day used up)", "burst-warm", limit)):
        for i in range(n):
            start = time.perf_counter()
            await quotas.admit(key_id, f"seq-{i}", daily_limit=daily, concurrent_limit=10**6)
            sequential[label].append(time.perf_counter() - start)
    await redis.aclose()
    table("Quota check one at a time (warm pool)", [(f"Quotas.admit, {k}", v) for k, v in sequential.items()])


def _process_share(url: str, key_id: str, n: int, limit: int, first: int, barrier, results) -> None:
    from redis.asyncio import Redis

    async def go() -> None:
        redis = Redis.from_url(url, max_connections=n)
        await asyncio.gather(*(redis.ping() for _ in range(n)))  # open the connections before the start
        barrier.wait()
        started = time.time()
        admitted, errors, times, wall = await _burst(redis, key_id, n, limit, first)
        await redis.aclose()
        results.put((admitted, errors, times, wall, started))

    asyncio.run(go())


def quota_across_processes(url: str, n: int, limit: int, processes: int, trials: int = 3) -> list[str]:
    """One table row per trial; returns, per trial, each process's admissions and burst window."""
    context = multiprocessing.get_context("spawn")
    share, windows = n // processes, []
    for trial in range(trials):
        key_id, barrier, results = f"burst-procs-{trial}", context.Barrier(processes), context.Queue()
        procs = [context.Process(target=_process_share, args=(url, key_id, share, limit, i * share, barrier, results))
                 for i in range(processes)]
        for proc in procs:
            proc.start()
        done = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        admitted, errors = sum(d[0] for d in done), sum(d[1] for d in done)
        times, wall = [t for d in done for t in d[2]], max(d[3] for d in done)
        got = asyncio.run(_counted(None, key_id, url))
        _check(f"multi-process burst {trial + 1}", admitted, errors, got, limit)
        print(f"| {processes} processes x {share} at once (pools of {share}, warm), trial {trial + 1} | {admitted} | "
              f"{errors} | {got[0]}, {got[1]} | {ms(times)} | {wall * 1000:.1f} (slowest process) | "
              f"{share * processes / wall:,.0f} | - |")
        first = min(d[4] for d in done)
        windows.append(", ".join(f"{d[0]} ({(d[4] - first) * 1000:.0f}-{(d[4] - first + d[3]) * 1000:.0f} ms)"
                                 for d in done))
    return windows


def redis_script_usec(url: str) -> str:
    """EVALSHA calls and microseconds per call inside Redis so far (only the quota script has run yet)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats").get("cmdstat_evalsha", {})
    finally:
        client.close()
    return f"{stats.get('calls', 0):,} EVALSHA calls, {stats.get('usec_per_call', float('nan')):.2f} µs per call"


# --- 2. in process: the app through the ASGI transport -------------------------------------------------------

async def pieces(url: str, n: int) -> None:
    """Each Redis step of the gate alone, and HttpMetrics around a one-route app."""
    from limits import RateLimitItemPerMinute
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import MovingWindowRateLimiter
    from prometheus_client import CollectorRegistry
    from redis.asyncio import Redis
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from nexa_research.server.access.api_keys import KeyStore
    from nexa_research.server.observability.http_metrics import HttpMetrics

    redis = Redis.from_url(url)
    key, _ = await KeyStore(redis).create("pieces", "custom")
    storage = RedisStorage(url.replace("redis", "async+redis", 1), implementation="redispy", key_prefix="bench:limits")
    limiter = MovingWindowRateLimiter(storage)
    rows: list[tuple[str, list[float]]] = []
    for label, item in (("rate-limit hit (moving window), limit 600/min", RateLimitItemPerMinute(600)),
                        (f"rate-limit hit, limit {HIGH_RATE:,}/min", RateLimitItemPerMinute(HIGH_RATE))):
        times = []
        for i in range(n):
            start = time.perf_counter()
            # 600/min: a new identifier every 500 hits, so none is refused; the high limit: one list of n entries
            await limiter.hit(item, "bench", f"600-{i // 500}" if item.amount == 600 else "high")
            times.append(time.perf_counter() - start)
        rows.append((label, times))
    keys, times = KeyStore(redis), []
    for _ in range(n):
        start = time.perf_counter()
        assert await keys.verify(key) is not None
        times.append(time.perf_counter() - start)
    rows.append(("KeyStore.verify (GET, JSON, HMAC-SHA256)", times))
    await redis.aclose()
    table("The gate's steps alone, one at a time", rows)

    async def thread(request):
        return PlainTextResponse("ok")

    bare = Starlette(routes=[Route("/threads/{thread_id}", thread)])
    metered = HttpMetrics(bare, registry=CollectorRegistry())
    scope = {"type": "http", "method": "GET", "path": "/threads/abc", "raw_path": b"/threads/abc", "headers": [],
             "query_string": b"", "root_path": "", "scheme": "http", "server": ("bench", 80),
             "client": ("127.0.0.1", 1)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    timed: dict[str, list[float]] = {"one-route Starlette app": [], "the same inside HttpMetrics": []}
    for _ in range(5):
        for label, app in (("one-route Starlette app", bare), ("the same inside HttpMetrics", metered)):
            for _ in range(n * 2):
                start = time.perf_counter()
                await app(dict(scope), receive, send)
                timed[label].append(time.perf_counter() - start)
    table("HttpMetrics alone (direct ASGI calls)", [(k, v) for k, v in timed.items()], timed["one-route Starlette app"])


async def in_process(url: str, data_dir: Path, requests: int, runs: int) -> None:
    import logging

    import httpx
    from redis.asyncio import Redis

    sys.path.insert(0, str(BENCH))
    os.environ.update({"REDIS_URL": url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false",
                       "NEXA_DATA_DIR": str(data_dir), "LANGSMITH_TRACING": "false", "NEXA_RETRY_WAIT_SECONDS": "0"})
    logging.getLogger().setLevel(logging.WARNING)
    from simulated_providers import simulated_providers

    from nexa_research.server.access.api_keys import KeyStore
    from nexa_research.server.access.settings import AccessSettings
    from nexa_research.server.app import create_app
    from nexa_research.server.observability.http_metrics import HttpMetrics
    from nexa_research.server.settings import ServerSettings

    redis = Redis.from_url(url)
    key, _ = await KeyStore(redis).create("bench-inproc", "custom", 10**9)
    await redis.aclose()
    variants = {"auth required": ("required", True), "auth off": ("off", True),
                "auth required, no HttpMetrics": ("required", False), "auth off, no HttpMetrics": ("off", False)}
    async with AsyncExitStack() as stack:
        clients = {}
        for name, (auth, metrics) in variants.items():
            access = AccessSettings(auth=auth, requests_per_minute_per_key=HIGH_RATE,
                                    requests_per_minute_per_ip=HIGH_RATE)
            app = create_app(simulated_providers(), ServerSettings(), access)
            if not metrics:  # before the first request, while the middleware stack is not built yet
                app.user_middleware = [m for m in app.user_middleware if m.cls is not HttpMetrics]
            await stack.enter_async_context(app.router.lifespan_context(app))
            headers = {"x-api-key": key} if auth == "required" else {}
            client = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers))
            created = await client.post("/threads", json={})
            created.raise_for_status()
            clients[name] = (client, f"/threads/{created.json()['thread_id']}")
        get_times = await _rounds(clients, requests, _get)
        table(f"In process: GET /threads/{{id}}, {requests:,} per variant", list(get_times.items()),
              get_times["auth off"])
        posting = {k: v for k, v in clients.items() if "HttpMetrics" not in k}
        post_times = await _rounds(posting, runs, _post_run)
        table(f"In process: POST /runs (+ quota when keyed), {runs} per variant", list(post_times.items()),
              post_times["auth off"])


async def _get(client, path: str) -> float:
    start = time.perf_counter()
    response = await client.get(path)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


async def _post_run(client, path: str) -> float:
    start = time.perf_counter()
    response = await client.post("/runs", json=RUN_BODY)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    run = response.json()
    (await client.post(f"/threads/{run['thread_id']}/runs/{run['run_id']}/cancel")).raise_for_status()
    return elapsed


async def _rounds(clients: dict, total: int, step, rounds: int = 10, warmup: int = 20) -> dict[str, list[float]]:
    """`total` timed calls per variant in `rounds` interleaved blocks, after `warmup` untimed ones each."""
    times: dict[str, list[float]] = {name: [] for name in clients}
    for client, path in clients.values():
        for _ in range(warmup):
            await step(client, path)
    for _ in range(rounds):
        for name, (client, path) in clients.items():
            for _ in range(total // rounds):
                times[name].append(await step(client, path))
    return times


# --- 3. over HTTP: uvicorn API processes ----------------------------------------------------------------------

def over_http(url: str, folder: Path, requests: int, runs: int) -> None:
    from redis.asyncio import Redis

    from nexa_research.server.access.api_keys import KeyStore

    async def make_key() -> str:
        redis = Redis.from_url(url)
        try:
            return (await KeyStore(redis).create("bench-http", "custom", 10**9))[0]
        finally:
            await redis.aclose()

    key = asyncio.run(make_key())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXA_", "REDIS_", "OPENAI", "EXA_"))}
    env.update({"REDIS_URL": url, "NEXA_CHECKPOINTER": "redis", "NEXA_CACHE": "false", "LANGSMITH_TRACING": "false",
                "NEXA_DATA_DIR": str(folder / "data"),
                "NEXA_SERVER_PROVIDERS": "simulated_providers:simulated_providers",
                "NEXA_SERVER_REQUESTS_PER_MINUTE_PER_KEY": str(HIGH_RATE),
                "NEXA_SERVER_REQUESTS_PER_MINUTE_PER_IP": str(HIGH_RATE),
                "PYTHONPATH": os.pathsep.join([str(BENCH), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)})
    from nexa_research.cli.serve import stop_processes

    procs: list[subprocess.Popen] = []
    try:
        clients = {}
        for auth in ("required", "off"):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            log = (folder / f"api-{auth}.log").open("w")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "nexa_research.server.app:app", "--host", "127.0.0.1", "--port",
                 str(port), "--log-level", "warning"], env={**env, "NEXA_SERVER_AUTH": auth}, stdout=log,
                stderr=subprocess.STDOUT, cwd=folder))
            base = f"http://127.0.0.1:{port}"
            _wait_ok(base, procs[-1], folder)
            clients[f"auth {auth}"] = base
        asyncio.run(_over_http(clients, key, requests, runs))
    finally:
        stop_processes(procs)
    for log in sorted(folder.glob("api-*.log")):
        text = log.read_text(errors="replace")
        print(f"{log.name}: {text.count('Traceback')} tracebacks, {text.count('MaxConnectionsError')} lines naming "
              "MaxConnectionsError")


async def _over_http(bases: dict[str, str], key: str, requests: int, runs: int) -> None:
    import httpx

    async with AsyncExitStack() as stack:
        clients = {}
        for name, base in bases.items():
            client = await stack.enter_async_context(httpx.AsyncClient(
                base_url=base, headers={"x-api-key": key} if name == "auth required" else {}, timeout=30))
            created = await client.post("/threads", json={})
            created.raise_for_status()
            clients[name] = (client, f"/threads/{created.json()['thread_id']}")
        get_times = await _rounds(clients, requests, _get)
        table(f"Over HTTP (uvicorn, keep-alive): GET /threads/{{id}}, {requests:,} per variant",
              list(get_times.items()), get_times["auth off"])
        post_times = await _rounds(clients, runs, _post_run)
        table(f"Over HTTP: POST /runs (+ quota when keyed), {runs} per variant", list(post_times.items()),
              post_times["auth off"])
        print(f"\nOver HTTP: GET /threads/{{id}}, many at once (load {load()})\n\n| variant | at once | answers |"
              "\n| --- | --- | --- |")
        for n in (50, 100, 200, 400):
            for name, (client, path) in clients.items():
                async with httpx.AsyncClient(base_url=str(client.base_url), headers=client.headers, timeout=60,
                                             limits=httpx.Limits(max_connections=n)) as burst:
                    answers = await asyncio.gather(*(burst.get(path) for _ in range(n)), return_exceptions=True)
                counts = Counter(getattr(a, "status_code", type(a).__name__) for a in answers)
                print(f"| {name} | {n} | {', '.join(f'{k}: {v}' for k, v in sorted(counts.items(), key=str))} |")


def _wait_ok(base: str, proc: subprocess.Popen, folder: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            logs = "".join(log.read_text(errors="replace")[-3000:] for log in folder.glob("api-*.log"))
            raise RuntimeError(f"an API process exited; its log ends:\n{logs}")
        try:
            if httpx.get(f"{base}/ok", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer within 120 s: see {folder}/api-*.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000, help="in-process GETs per variant")
    parser.add_argument("--http-requests", type=int, default=1000, help="GETs per variant over HTTP")
    parser.add_argument("--runs", type=int, default=200, help="POST /runs per variant")
    args = parser.parse_args()

    from nexa_research.providers.services.openssl import find_libssl11
    from nexa_research.providers.services.redis_embedded import EmbeddedRedis
    from nexa_research.providers.settings import ProviderSettings

    print(f"uptime at start: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    with tempfile.TemporaryDirectory(prefix="nexa-bench-access-") as tmp:
        folder = Path(tmp)
        redis = EmbeddedRedis(folder / "redis", lib_dir=find_libssl11(ProviderSettings.load()), idle_minutes=0)
        url = redis.start()
        try:
            asyncio.run(quota_in_one_process(url, args.burst, args.limit))
            windows = quota_across_processes(url, args.burst, args.limit, args.processes)
            print("\nadmitted per process (its burst, from the first process's start):\n" + "\n".join(windows))
            asyncio.run(quota_one_at_a_time(url, args.burst, args.limit))
            print(f"\nRedis-side time of the quota script: {redis_script_usec(url)}")
            asyncio.run(pieces(url, args.requests))
            asyncio.run(in_process(url, folder / "data-inproc", args.requests, args.runs))
            over_http(url, folder, args.http_requests, args.runs)
        finally:
            redis.stop()
    print(f"\nuptime at end: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
