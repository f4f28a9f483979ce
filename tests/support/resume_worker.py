"""A research run in its own process, for kill-and-resume tests. Every model and search call is logged.

    python tests/resume_worker.py THREAD_ID LOG_FILE first|resume

Sections whose title contains "slow" block in search during the `first` run, so the parent can SIGKILL the
process while they are in flight and the other sections have finished.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for `support`

from nexa_research import aresearch  # noqa: E402
from nexa_research.providers import InMemorySearch  # noqa: E402
from support.scripted_models import ScriptedChatModel, field, providers_for  # noqa: E402

TITLES = ["Alpha origins", "Beta spread", "Gamma slow effects", "Delta slow legacy"]
TOPIC = "The printing press"


def log(path: Path, **event: str) -> None:
    with path.open("a") as out:
        out.write(json.dumps(event) + "\n")
        out.flush()


class LoggedSearch(InMemorySearch):
    def __init__(self, docs, path: Path, block: bool) -> None:
        super().__init__(docs)
        self.path, self.block = path, block

    async def search(self, query, k, filters=None):
        section = next(t for t in TITLES if t in query)
        log(self.path, kind="search", section=section)
        if self.block and "slow" in section:
            await asyncio.sleep(600)
        return await super().search(query, k, filters)


def logged(model: ScriptedChatModel, role: str, path: Path) -> ScriptedChatModel:
    inner = model.respond

    def respond(messages):
        log(path, kind="llm", role=role, section=field(messages, "Section"))
        answer = inner(messages)
        if role == "synthesizer":
            log(path, kind="done", section=field(messages, "Section"))
        return answer

    model.respond = respond
    return model


async def main(thread_id: str, path: Path, mode: str) -> None:
    from support.scripted_models import corpus_for

    providers = providers_for(TITLES, search=LoggedSearch(corpus_for(TITLES), path, block=mode == "first"))
    for role, model in providers._chat.items():
        logged(model, role, path)
    if mode == "first":
        report = await aresearch(TOPIC, providers=providers, thread_id=thread_id, max_iterations=1, max_sections=4)
    else:
        report = await aresearch(TOPIC, providers=providers, thread_id=thread_id)
    print(report.to_json(indent=None))


if __name__ == "__main__":
    started = time.time()
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3]))
