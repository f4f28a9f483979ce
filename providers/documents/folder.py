"""Which files of a folder are documents: supported types, include/exclude patterns, tooling folders left out.

A documentation tree holds more than pages: style sheets, scripts, images, compressed copies, and often a second
copy of every page (Sphinx's `_sources/*.txt`). Files of other types are counted by type in one line rather than
warned about one by one; patterns (`--exclude '_sources/**'`) leave out what the user names.

Patterns are shell-style and matched against the path relative to the folder, with `/` separators: `*` matches
within one folder name, `**` across folders (`_sources/**`, `**/drafts/*`); a pattern without a `/` matches a
file name anywhere (`*.txt`).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from nexa_research.providers.documents.readers import SUPPORTED_SUFFIXES


@dataclass
class FolderScan:
    """The files to read, and what was left out: counts per file type, hidden entries, excluded files."""

    root: Path
    files: list[Path] = field(default_factory=list)
    other_types: Counter[str] = field(default_factory=Counter)
    hidden: int = 0
    excluded: int = 0

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if self.root.is_dir() else path.name

    def skipped_summary(self) -> str:
        """"412 .css, 97 .js, 3 hidden, 530 excluded" (empty when nothing was left out)."""
        parts = [f"{n} {suffix}" for suffix, n in sorted(self.other_types.items(), key=lambda item: (-item[1], item[0]))]
        if self.hidden:
            parts.append(f"{self.hidden} hidden")
        if self.excluded:
            parts.append(f"{self.excluded} excluded")
        return ", ".join(parts)


@cache
def _pattern(glob: str) -> re.Pattern[str]:
    """A shell-style pattern as a regular expression over a relative POSIX path."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(relative: str, patterns: Sequence[str]) -> bool:
    """Whether a relative path matches any pattern; a pattern without `/` is tried on the file name too."""
    name = relative.rsplit("/", 1)[-1]
    for glob in patterns:
        glob = glob.strip().removeprefix("./")
        if not glob:
            continue
        if _pattern(glob).match(relative) or ("/" not in glob and _pattern(glob).match(name)):
            return True
    return False


def scan_folder(root: Path, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> FolderScan:
    """The supported files under `root` (or `root` itself), in a stable order. Dot-folders and dot-files (.git,
    .venv) are tooling, not documents: counted once at their top. With `include`, only matching files are read;
    `exclude` wins over `include`."""
    scan = FolderScan(root)
    if root.is_file():
        candidates = [root]
    else:
        candidates = []
        for folder, dirs, names in os.walk(root):
            scan.hidden += sum(1 for d in dirs if d.startswith(".")) + sum(1 for n in names if n.startswith("."))
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            candidates += [Path(folder) / n for n in sorted(names) if not n.startswith(".")]
    for path in candidates:
        relative = scan.relative(path)
        if (include and not matches(relative, include)) or matches(relative, exclude):
            scan.excluded += 1
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            scan.other_types[path.suffix.lower() or "(no suffix)"] += 1
        else:
            scan.files.append(path)
    return scan
