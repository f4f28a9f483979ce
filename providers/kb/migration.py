"""Copying a knowledge base from one store to another without embedding again, and seeding an empty one.

Machines set up before Redis became the default store have their chunks in embedded Qdrant under
`<data_dir>/qdrant`. Those are MiniLM vectors under the same chunk ids and payloads the Redis store uses, so a
copy takes seconds where embedding the Wikipedia corpus again takes minutes (bench/README.md). `nexa ingest
qdrant` runs the copy; `seed_if_empty` (behind `--ingest-if-empty`) copies when such a folder exists and
ingests the Wikipedia corpus otherwise. A copy is idempotent: points already stored unchanged are skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path

from nexa_research.errors import ResearchInputError
from nexa_research.providers.kb.ingest import ingest_wikipedia, progress_bar
from nexa_research.providers.kb.store import KnowledgeBase, embedded_qdrant_folder
from nexa_research.providers.settings import ProviderSettings

logger = logging.getLogger(__name__)


def copy_knowledge_base(source: KnowledgeBase, target: KnowledgeBase, progress: bool = True) -> int:
    """Store every chunk of `source` in `target`, vectors included; return how many chunks were copied."""
    if source.embedder.dim != target.embedder.dim:
        raise ResearchInputError(
            f"cannot copy {source.describe()} ({source.embedder.dim} dims) into {target.describe()} "
            f"({target.embedder.dim} dims): ingest the documents again instead"
        )
    total = source.count()
    with progress_bar(progress, f"Copying from {source.store}") as report:
        copied = target.import_points(source.export(), total=total, progress=report)
    logger.info("copied %d chunks from %s into %s", copied, source.describe(), target.describe())
    return copied


def embedded_qdrant_collection(settings: ProviderSettings, collection: str | None = None) -> Path | None:
    """The folder of an embedded Qdrant collection an earlier version ingested into, if there is one.

    Checked on disk, without opening Qdrant: opening would create the collection, and lock the folder.
    """
    name = collection or settings.qdrant_collection
    folder = embedded_qdrant_folder(settings)
    return folder if (folder / "collection" / name).is_dir() else None


def copy_from_embedded_qdrant(target: KnowledgeBase, settings: ProviderSettings, progress: bool = True) -> int:
    """`nexa ingest qdrant`: copy the embedded Qdrant collection under the data folder into `target`."""
    from nexa_research.providers.kb.qdrant_store import QdrantKnowledgeBase

    folder = embedded_qdrant_collection(settings, target.collection)
    if folder is None:
        raise ResearchInputError(
            f"no embedded Qdrant collection {target.collection!r} under {embedded_qdrant_folder(settings)}: "
            "nothing to copy (`nexa ingest wikipedia` fills the knowledge base from the corpus)"
        )
    if target.store == "qdrant" and target.location == str(folder.resolve()):
        raise ResearchInputError(f"the knowledge base already is the embedded Qdrant store at {folder}")
    with QdrantKnowledgeBase(path=folder, collection=target.collection, embedder=target.embedder) as source:
        return copy_knowledge_base(source, target, progress)


def seed_if_empty(kb: KnowledgeBase, settings: ProviderSettings, progress: bool = True) -> str | None:
    """Fill an empty knowledge base: from an earlier embedded Qdrant store when there is one (no embedding),
    else from the offline Wikipedia corpus. Returns what was done, or None when `kb` already had chunks."""
    if kb.count() > 0:
        return None
    legacy = embedded_qdrant_collection(settings, kb.collection)
    if legacy is not None and not (kb.store == "qdrant" and kb.location == str(legacy.resolve())):
        copied = copy_from_embedded_qdrant(kb, settings, progress)
        if copied:
            return f"copied {copied} chunks from embedded Qdrant at {legacy}"
    return f"ingested {ingest_wikipedia(kb, progress=progress)} chunks of the offline Wikipedia corpus"
