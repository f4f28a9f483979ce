"""Prompt texts as files, one per role, each versioned by the hash of its content.

A file has a `<<<system>>>` part and a `<<<human>>>` part; `$name` placeholders are filled with
`string.Template.substitute`, so a missing value is an error rather than a silent gap. The version recorded in
report metadata changes exactly when the text changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

PROMPT_ROLES = ("planner", "query_writer", "reflection", "synthesizer", "synthesizer_lead", "collator")
_SYSTEM, _HUMAN = "<<<system>>>", "<<<human>>>"


@dataclass(frozen=True)
class Prompt:
    role: str
    system: str
    human: str
    version: str

    def messages(self, **values: Any) -> list[BaseMessage]:
        """System and human messages with every `$name` filled; a missing name raises `KeyError`."""
        return [
            SystemMessage(Template(self.system).substitute(values)),
            HumanMessage(Template(self.human).substitute(values)),
        ]


@cache
def load_prompt(role: str) -> Prompt:
    """Read `prompts/<role>.md` from the installed package."""
    if role not in PROMPT_ROLES:
        raise KeyError(f"no prompt for role {role!r}; roles are {', '.join(PROMPT_ROLES)}")
    text = resources.files(__name__).joinpath(f"{role}.md").read_text(encoding="utf-8")
    if _SYSTEM not in text or _HUMAN not in text:
        raise ValueError(f"prompts/{role}.md must contain {_SYSTEM} and {_HUMAN} markers")
    system, human = text.split(_SYSTEM, 1)[1].split(_HUMAN, 1)
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Prompt(role=role, system=system.strip(), human=human.strip(), version=version)


def prompt_versions() -> dict[str, str]:
    """Content hash of every role's prompt, for report metadata."""
    return {role: load_prompt(role).version for role in PROMPT_ROLES}
