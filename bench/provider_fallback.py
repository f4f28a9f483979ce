"""How long a role keeps trying a failing endpoint before it falls back or gives up, per retry setting.

One retry layer: the SDK's own retries are off and the retry policy (providers/retry_policy.py) tries a
transiently failing call 1 + `provider_retries` times (per run), then falls back. Run from the repository root:
`.venv/bin/python bench/provider_fallback.py` (uses the local OpenAI stand-in from tests/support/openai_stub.py).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from langchain_core.messages import HumanMessage  # noqa: E402

from nexa_research.config import ResearchConfig  # noqa: E402
from nexa_research.errors import ProviderError  # noqa: E402
from nexa_research.providers import ConfiguredProviders, ProviderSettings  # noqa: E402
from support.openai_stub import OpenAIStub, closed_port_url  # noqa: E402


async def seconds_to_give_up(role: dict, **knobs: object) -> float:
    cfg = ResearchConfig(models={"synthesizer": role}, **knobs)
    models = ConfiguredProviders(ProviderSettings(openai_api_key="unused")).role_models("synthesizer", cfg)
    started = time.perf_counter()
    try:
        await models.text([HumanMessage("hi")])
    except ProviderError:
        return time.perf_counter() - started
    raise RuntimeError("the failing endpoint answered")


async def main() -> None:
    with OpenAIStub(default_mode="503", retry_after_ms=None) as busy, OpenAIStub(default_mode="slow", slow_seconds=30) as hang:
        dead = closed_port_url()
        cases = [
            ("closed port, defaults (provider_retries=2, wait 0.5 s)", {"base_url": dead}, {"retry_wait_seconds": 0.5}),
            ("503 without Retry-After, defaults", {"base_url": busy.base_url}, {"retry_wait_seconds": 0.5}),
            ("closed port, provider_retries=0", {"base_url": dead}, {"provider_retries": 0}),
            ("hang, timeout 1 s, provider_retries=1, wait 0",
             {"base_url": hang.base_url, "timeout_seconds": 1}, {"provider_retries": 1, "retry_wait_seconds": 0}),
        ]
        for label, role, knobs in cases:
            print(f"| {label} | {await seconds_to_give_up(role, **knobs):.2f} s |")


if __name__ == "__main__":
    asyncio.run(main())
