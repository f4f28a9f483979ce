"""Runs on the embedded Redis: a machine that was not set up is told to run `nexa setup` instead of being
installed to behind its back."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from nexa_research import aresearch
from nexa_research.providers import openssl_compat
from nexa_research.providers.openssl_compat import SetupRequiredError
from scripted_models import providers_for

pytestmark = pytest.mark.redis
PACKAGE_FOLDERS = ("graph", "nodes", "providers", "server")


async def test_a_run_on_a_machine_not_set_up_says_to_run_nexa_setup_and_installs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXA_DATA_DIR", str(tmp_path))  # no openssl11/ here
    monkeypatch.setenv("NEXA_CHECKPOINTER", "redis")
    monkeypatch.setattr(openssl_compat, "_system_has", lambda soname: False)  # a system without libssl1.1
    spawned: list[object] = []

    def refuse(args: object, *rest: object, **kwargs: object) -> None:
        spawned.append(args)
        raise AssertionError(f"a library call started a process: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    providers = providers_for(["Alpha origins", "Beta spread", "Gamma effects"])
    with pytest.raises(SetupRequiredError) as caught:
        await aresearch("The printing press", providers=providers)
    message = str(caught.value)
    assert "libssl.so.1.1" in message and "Run `nexa setup`" in message and str(tmp_path / "openssl11") in message
    assert spawned == []
    assert not (tmp_path / "openssl11").exists()
    assert not providers._chat["planner"].calls


def test_only_the_setup_command_runs_apt_get() -> None:
    root = Path(__file__).resolve().parent.parent
    users = sorted(str(path.relative_to(root)) for folder in PACKAGE_FOLDERS for path in (root / folder).rglob("*.py")
                   if "apt-get" in path.read_text(encoding="utf-8"))  # fmt: skip
    assert users == ["graph/cli_setup_openssl.py"]
    importers = sorted(str(path.relative_to(root)) for folder in PACKAGE_FOLDERS for path in (root / folder).rglob("*.py")
                       if "cli_setup_openssl" in _imported_modules(path))  # fmt: skip
    assert importers == ["graph/cli_setup.py"]  # and only `nexa setup` imports it


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names |= {(node.module or "").rsplit(".", 1)[-1], *(alias.name for alias in node.names)}
        elif isinstance(node, ast.Import):
            names |= {alias.name.rsplit(".", 1)[-1] for alias in node.names}
    return names
