"""How long a fresh process takes to open the knowledge base the environment names, and count it.

    NEXA_DATA_DIR=/tmp/nexa-kb-qdrant NEXA_KB=qdrant .venv/bin/python bench/kb_open_time.py
    NEXA_DATA_DIR=/tmp/nexa-kb-redis NEXA_KB=redis .venv/bin/python bench/kb_open_time.py [--hold 20]

For Redis, finding (or starting) the embedded server is timed apart from opening the index; `--hold N` keeps
this process, and so the server it started, alive N seconds, so that other runs measure a shared server.
"""

from __future__ import annotations

import argparse
import time

t0 = time.perf_counter()
from nexa_research.providers.kb.store import open_knowledge_base, resolve_kb_store  # noqa: E402
from nexa_research.providers.services.redis_server import ensure_redis_url  # noqa: E402
from nexa_research.providers.settings import ProviderSettings  # noqa: E402

imported = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=0.0)
    args = parser.parse_args()
    settings = ProviderSettings.load()
    store = resolve_kb_store(settings)
    t1 = time.perf_counter()
    if store == "redis":
        ensure_redis_url(settings)
    t2 = time.perf_counter()
    kb = open_knowledge_base(settings)
    chunks = kb.count()
    t3 = time.perf_counter()
    print(f"{store}: imports {imported - t0:.2f} s, server found or started {1000 * (t2 - t1):.0f} ms, "
          f"open + count {1000 * (t3 - t2):.0f} ms ({chunks} chunks)")
    time.sleep(args.hold)
    kb.close()


if __name__ == "__main__":
    main()
