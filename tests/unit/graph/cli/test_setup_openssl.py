"""Only `nexa setup` installs anything: no run, server or library call reaches apt-get (read from the sources)."""

from __future__ import annotations

import ast
from pathlib import Path

from support.paths import REPO

PACKAGE_FOLDERS = ("graph", "nodes", "providers", "server")


def test_only_the_setup_command_runs_apt_get() -> None:
    root = REPO
    users = sorted(str(path.relative_to(root)) for folder in PACKAGE_FOLDERS for path in (root / folder).rglob("*.py")
                   if "apt-get" in path.read_text(encoding="utf-8"))  # fmt: skip
    assert users == ["graph/cli/setup_openssl.py"]
    importers = sorted(str(path.relative_to(root)) for folder in PACKAGE_FOLDERS for path in (root / folder).rglob("*.py")
                       if "setup_openssl" in _imported_modules(path))  # fmt: skip
    assert importers == ["graph/cli/setup.py"]  # and only `nexa setup` imports it


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names |= {(node.module or "").rsplit(".", 1)[-1], *(alias.name for alias in node.names)}
        elif isinstance(node, ast.Import):
            names |= {alias.name.rsplit(".", 1)[-1] for alias in node.names}
    return names
