"""The embedded llama.cpp server's settings per role, without starting it (tests/integration runs it)."""

from __future__ import annotations

from nexa_research.config import ROLES
from nexa_research.providers.llm.local_server import local_sampling_extras


def test_every_role_gets_llama_sampling_extras() -> None:
    for role in ROLES:
        extras = local_sampling_extras(role)
        assert 1.0 < extras["repeat_penalty"] <= 1.2, role
    local_sampling_extras("synthesizer")["repeat_penalty"] = 9.0
    assert local_sampling_extras("synthesizer")["repeat_penalty"] < 2, "callers must get a copy"
