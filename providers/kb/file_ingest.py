"""A user's folder in a knowledge-base collection, kept in step with it: `nexa ingest PATH --collection NAME`.

Each file is read into sections (providers/documents/), and each section is stored as a document of its own,
cited at the file's URI with the section's anchor and titled by the page title and heading path. Every chunk
also carries the file's URI and the SHA-256 of its bytes, so running the ingest again on the folder:
- skips a file whose bytes are unchanged (hashing a 1,000-page manual takes well under a second; nothing is read,
  chunked or embedded), unless the reading rules changed since (`READER_VERSION` is part of the hash);
- re-reads a changed file, rewrites its sections and deletes the ones it lost;
- removes the files no longer there (deleted, or now excluded by a pattern);
- stores a near-identical copy once (providers/documents/duplicates.py).
The state lives in the store itself (the chunks' payloads), so any machine sharing the store sees the same.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pypdf.errors import PyPdfError

from nexa_research.providers.documents.duplicates import Candidate, duplicates, stem
from nexa_research.providers.documents.folder import FolderScan, scan_folder
from nexa_research.providers.documents.links import resolved_links
from nexa_research.providers.documents.model import READER_VERSION, ReadDocument
from nexa_research.providers.documents.readers import HTML_SUFFIXES, read_file
from nexa_research.providers.documents.titles import clean_title, placed_title, shared_suffix
from nexa_research.providers.kb.chunks import point_id
from nexa_research.providers.kb.progress import progress_bar
from nexa_research.providers.kb.store import KnowledgeBase

logger = logging.getLogger(__name__)

FILES_SOURCE = "files"
NO_TEXT = "no readable text"
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass
class IngestReport:
    """What an ingest did, file by file: added, updated, removed, unchanged, stored once as a copy, skipped."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    copies: dict[str, str] = field(default_factory=dict)  # relative path of a near-identical copy -> the one kept
    # files not stored, with the reason: unreadable, or without text (NO_TEXT: tables of contents, empty files)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks the added and updated files have in the store
    scan: FolderScan | None = None

    @property
    def documents(self) -> int:
        """Files stored by this ingest (added or updated)."""
        return len(self.added) + len(self.updated)

    def summary(self) -> str:
        """One line: what was added, updated, removed and skipped."""
        line = (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
                f"{self.unchanged} unchanged ({self.chunks} chunks written)")
        left = [f"{len(self.copies)} near-identical copies stored once"] if self.copies else []
        empty = sum(1 for _, reason in self.skipped if reason.startswith(NO_TEXT))
        left += [f"{empty} without text (index or navigation pages)"] if empty else []
        left += [f"{len(self.skipped) - empty} unreadable"] if len(self.skipped) > empty else []
        if self.scan is not None and self.scan.skipped_summary():
            left.append(f"not documents: {self.scan.skipped_summary()}")
        return line + ("; " + "; ".join(left) if left else "")


@dataclass
class _StoredFile:
    sha256: str | None
    chunks: dict[str, int] = field(default_factory=dict)  # url -> chunk count
    texts: dict[tuple[str, int], str] = field(default_factory=dict)

    def ids(self) -> set[str]:
        return {point_id(url, n) for url, count in self.chunks.items() for n in range(count)}

    def text(self) -> str:
        return "\n\n".join(self.texts[key] for key in sorted(self.texts))


def chunk_file(payload: dict[str, Any]) -> str | None:
    """The URI of the user's file a stored chunk belongs to (its `file`, or for a chunk an earlier version stored,
    its URL without the anchor); None for a chunk that is not from a user's file."""
    if payload.get("source") != FILES_SOURCE:
        return None
    return str(payload.get("file") or str(payload["url"]).split("#", 1)[0])


def _stored_files(kb: KnowledgeBase, root_uri: str) -> dict[str, _StoredFile]:
    """The files of this folder the collection holds, from the chunks' payloads."""
    stored: dict[str, _StoredFile] = {}
    for batch in kb.payloads():
        for payload in batch:
            file = chunk_file(payload)
            if file is None:
                continue
            if file != root_uri and not file.startswith(root_uri.rstrip("/") + "/"):
                continue
            entry = stored.setdefault(file, _StoredFile(payload.get("sha256")))
            entry.chunks[str(payload["url"])] = int(payload.get("chunks") or 1)
            entry.texts[(str(payload["url"]), int(payload.get("chunk") or 0))] = str(payload.get("text") or "")
    return stored


def file_hash(path: Path) -> str:
    """What a stored file is known by: SHA-256 of the reading rules' version and the file's bytes, so a file is
    read again when either changed."""
    return hashlib.sha256(READER_VERSION.encode() + b"\0" + path.read_bytes()).hexdigest()


def _html_title(path: Path) -> str:
    """A page's <title>, read from its head only: enough to find the folder's shared title suffix."""
    with path.open("rb") as handle:
        match = _HTML_TITLE.search(handle.read(16384))
    return " ".join(html.unescape(match.group(1).decode("utf-8", "replace")).split()) if match else ""


def file_documents(path: Path, read: ReadDocument, sha256: str, title_suffix: str | None) -> list[dict[str, Any]]:
    """One knowledge-base document per section (sections sharing an anchor are one), in document order."""
    base = path.resolve().as_uri()
    parent = clean_title(read.parent, title_suffix) if read.parent else None
    page_title = placed_title(clean_title(read.title, title_suffix) or path.stem, parent)
    published = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date().isoformat()
    docs: dict[str, dict[str, Any]] = {}
    links = " ".join(resolved_links(base, read.links))  # URIs hold no spaces: one string, as every payload value
    for section in read.sections:
        url = f"{base}#{section.anchor}" if section.anchor else base
        if url in docs:
            docs[url]["text"] += "\n\n" + section.text
        else:
            docs[url] = {"url": url, "title": section.title(page_title), "text": section.text,
                         "published": published, "file": base, "sha256": sha256}
    out = list(docs.values())
    if out and links:  # the page's opening carries them (kb/chunks.py: its first chunk only)
        out[0]["links"] = links
    return out


def _skip_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    if isinstance(exc, ValueError):
        return str(exc)
    return f"unreadable ({type(exc).__name__}: {exc})"


def ingest_path(
    kb: KnowledgeBase,
    path: str | Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    progress: bool = True,
) -> IngestReport:
    """Bring the collection in step with a file or folder (see the module docstring); return what was done."""
    root = Path(path).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"nothing to ingest: {root} does not exist")
    scan = scan_folder(root, include, exclude)
    report = IngestReport(scan=scan)
    stored = _stored_files(kb, root.resolve().as_uri())
    suffix = shared_suffix([_html_title(f) for f in scan.files if f.suffix.lower() in HTML_SUFFIXES])
    uris = {f: f.resolve().as_uri() for f in scan.files}
    hashes = {f: file_hash(f) for f in scan.files}
    reads: dict[Path, ReadDocument] = {}
    changed = [f for f in scan.files if stored.get(uris[f], _StoredFile(None)).sha256 != hashes[f]]
    report.unchanged = len(scan.files) - len(changed)
    with progress_bar(progress and bool(changed), f"Reading {root.name}", unit="files") as tick:
        for n, file in enumerate(changed, start=1):
            try:
                reads[file] = read_file(file)
                if not reads[file].text.strip():
                    del reads[file]
                    raise ValueError(f"{NO_TEXT} (an index or navigation page, or an empty file)")
            except (OSError, UnicodeDecodeError, ValueError, PyPdfError) as exc:
                report.skipped.append((scan.relative(file), _skip_reason(exc)))
                logger.info("skipped %s: %s", file, _skip_reason(exc))
            if tick is not None:
                tick(n, len(changed))
    copies = _copies(reads, stored, uris)
    report.copies = {scan.relative(a): (scan.relative(b) if b.is_relative_to(root) else str(b)) for a, b in copies.items()}
    # a changed file that reads as nothing now (a page the reading rules now see as an index, a PDF broken since) is
    # not what the collection holds of it any more: its stored version goes too
    unread = set(changed) - set(reads)
    present = {uri for f, uri in uris.items() if f not in copies and f not in unread}
    stale: set[str] = set()
    for uri, entry in stored.items():
        if uri not in present:
            stale |= entry.ids()
            report.removed.append(uri)
    docs: list[dict[str, Any]] = []
    for file, read in reads.items():
        if file in copies:
            continue
        new = file_documents(file, read, hashes[file], suffix)
        docs += new
        old = stored.get(uris[file])
        (report.updated if old is not None else report.added).append(scan.relative(file))
        if old is not None:  # sections this version no longer has (its others are rewritten or kept as they are)
            stale |= old.ids() - {point_id(d["url"], n) for d in new for n in range(len(kb.chunk(d["text"])))}
    kb.delete_chunks(sorted(stale))
    with progress_bar(progress and bool(docs), f"Files in {root.name}") as tick:
        report.chunks = kb.add_documents(docs, source=FILES_SOURCE, progress=tick) if docs else 0
    logger.info("ingest of %s: %s", root, report.summary())
    return report


def _copies(reads: dict[Path, ReadDocument], stored: dict[str, _StoredFile], uris: dict[Path, str]) -> dict[Path, Path]:
    """The files read now that near-copy another file of the folder (read now, or stored and still there: only
    those sharing a stem with a file read now can be its copy)."""
    stems = {stem(file) for file in reads}
    on_disk = {uri: f for f, uri in uris.items()}
    candidates = [Candidate(f, r.text) for f, r in reads.items()]
    candidates += [Candidate(on_disk[uri], entry.text(), stored=True) for uri, entry in stored.items()
                   if uri in on_disk and on_disk[uri] not in reads and stem(on_disk[uri]) in stems]
    return duplicates(candidates)
