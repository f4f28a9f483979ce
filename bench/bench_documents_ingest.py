"""Ingest of a user's document folder (issue 20): first ingest, re-ingest of the unchanged folder, and re-ingest
after one file changed, into a fresh collection of the configured store (the embedded Redis Stack by default),
which is dropped at the end.

    .venv/bin/python bench/bench_documents_ingest.py /tmp/docs/root/usr/share/doc/postgresql-doc-15/html
    .venv/bin/python bench/bench_documents_ingest.py /tmp/docs/root/usr/share/doc/python3.11/html --exclude '_sources/**'
    .venv/bin/python bench/bench_documents_ingest.py --wikipedia 3000    # the per-chunk yardstick, same machine

Printed: wall and CPU seconds of each step (this process; the Redis server's own CPU is not counted), chunks
written, chunks per second of the first ingest, and the summary line of each step. The changed file is a copy of
the folder in a temporary folder with one page's text edited, so the folder itself is never written.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from nexa_research.providers.kb.file_ingest import ingest_path
from nexa_research.providers.kb.store import open_knowledge_base
from nexa_research.providers.settings import ProviderSettings


def timed(label: str, step):
    wall, cpu = time.perf_counter(), time.process_time()
    report = step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"| {label} | {wall:.1f} s | {cpu:.1f} s | {report.chunks} | {report.summary()} |")
    return report, wall


def wikipedia(limit: int) -> None:
    from nexa_research.providers.kb.ingest import ingest_wikipedia

    with open_knowledge_base(ProviderSettings.load(), collection=f"bench_wiki_{uuid.uuid4().hex[:8]}") as kb:
        try:
            kb.embedder.embed(["warm up the embedding model"])
            wall, cpu = time.perf_counter(), time.process_time()
            chunks = ingest_wikipedia(kb, limit=limit, progress=False)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"Wikipedia, {limit} articles: {chunks} chunks in {wall:.1f} s ({cpu:.1f} s CPU): {chunks / wall:.1f} chunks/s")
        finally:
            kb.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?")
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--wikipedia", type=int, help="instead: ingest the first N Wikipedia articles")
    parser.add_argument("--keep", metavar="NAME", help="keep the collection under this name, and the folder's copy "
                        "(with its one edited page) under --copy-to, e.g. for an eval run on it")
    parser.add_argument("--copy-to", type=Path, help="where to copy the folder (default: a temporary folder)")
    args = parser.parse_args()
    if args.wikipedia:
        wikipedia(args.wikipedia)
        return
    if args.folder is None:
        parser.error("a folder to ingest, or --wikipedia N")
    with tempfile.TemporaryDirectory() as scratch:
        folder = (args.copy_to or Path(scratch)) / args.folder.name
        shutil.copytree(args.folder, folder, dirs_exist_ok=True)
        name = args.keep or f"bench_docs_{uuid.uuid4().hex[:8]}"
        with open_knowledge_base(ProviderSettings.load(), collection=name) as kb:
            try:
                kb.embedder.embed(["warm up the embedding model"])  # its loading is not the ingest's cost
                print("| step | wall | CPU (this process) | chunks written | summary |")
                print("| --- | --- | --- | --- | --- |")
                first, wall = timed("first ingest", lambda: ingest_path(kb, folder, exclude=args.exclude, progress=False))
                timed("again, unchanged", lambda: ingest_path(kb, folder, exclude=args.exclude, progress=False))
                page = next(p for p in sorted(folder.rglob("*.html")) if p.stat().st_size > 4000)
                page.write_text(page.read_text(encoding="utf-8").replace("</p>", " Edited for the bench.</p>", 1), encoding="utf-8")
                timed(f"again, {page.name} edited", lambda: ingest_path(kb, folder, exclude=args.exclude, progress=False))
                print(f"\nfirst ingest: {first.chunks / wall:.1f} chunks/s, {kb.count()} chunks stored")
            finally:
                if not args.keep:
                    kb.drop()


if __name__ == "__main__":
    main()
