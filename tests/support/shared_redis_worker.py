"""A research run in its own process on the data folder's embedded Redis (NEXA_DATA_DIR), for tests of sharing it.

    python tests/shared_redis_worker.py THREAD_ID LOG_FILE GATE_FILE

Searches of sections whose title contains "gated" wait until GATE_FILE exists, so a test can hold the run in
flight (its earlier steps checkpointed) while it kills another process. Every search and finished section is logged.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for `support`

from nexa_research import aresearch  # noqa: E402
from nexa_research.providers import InMemorySearch  # noqa: E402
from support.scripted_models import corpus_for, providers_for  # noqa: E402

TITLES = ["Alpha origins", "Beta spread", "Gamma gated effects"]
TOPIC = "The printing press"


def log(path: Path, **event: str) -> None:
    with path.open("a") as out:
        out.write(json.dumps(event) + "\n")


class GatedSearch(InMemorySearch):
    def __init__(self, docs: list[dict[str, str]], path: Path, gate: Path) -> None:
        super().__init__(docs)
        self.path, self.gate = path, gate

    async def search(self, query, k, filters=None):
        section = next(t for t in TITLES if t in query)
        log(self.path, kind="search", section=section)
        while "gated" in section and not self.gate.exists():
            await asyncio.sleep(0.05)
        return await super().search(query, k, filters)


async def main(thread_id: str, path: Path, gate: Path) -> None:
    providers = providers_for(TITLES, search=GatedSearch(corpus_for(TITLES), path, gate))
    report = await aresearch(TOPIC, providers=providers, thread_id=thread_id, max_iterations=1)
    log(path, kind="report", sections=",".join(s.status for s in report.sections))
    print(report.to_json(indent=None))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
