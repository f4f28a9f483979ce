"""Which documents of a knowledge base name a subject: a lookup by words, beside the search by meaning.

A reference corpus links what belongs together by name. The articles a careful researcher cites on the Black
Death include the Hundred Years' War ("... frequently interrupted by external factors, such as the Black Death"),
Edward III and The Seventh Seal; none of them is near the topic in meaning (0.28-0.34 against the topic, under
the calibrated on-topic floor), so no semantic query returns them. They name the subject, though. On the 24
tuning topics, the documents naming the topic's own articles hold a third of the articles the topic lists as
relevant (102 of 311), most of which the semantic search never returned.

The lookup scans the stored text: the knowledge base keeps no full-text index (providers/kb/redis_store.py says
why), and reading every chunk's text once per process costs about 0.3 s of CPU on the 10,893 chunks of the
Wikipedia corpus. It is read again when the number of chunks changes (an ingest in between). A collection above
`MAX_SCANNED_CHUNKS` is not scanned: the lookup then finds nothing, and research relies on the search by meaning.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from nexa_research.kernel.words import name_text
from nexa_research.providers.kb.store import KnowledgeBase
from nexa_research.providers.search.protocol import payload_source, wrapped_backend
from nexa_research.state import Source

MAX_SCANNED_CHUNKS = 200_000


def naming_pattern(names: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern for any of `names` as whole words in lower-case text, plural allowed; between two words of a
    name anything but a letter or digit ("hundred years war" matches "Hundred Years' War")."""
    keys = sorted({name_text(n) for n in names if name_text(n)}, key=len, reverse=True)
    alternatives = "|".join(r"[^a-z0-9]+".join(re.escape(w) for w in key.split()) for key in keys)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?:s|es)?(?![a-z0-9])") if alternatives else None


class Corpus:
    """The chunks' payloads and their texts in lower case, read once."""

    def __init__(self, payloads: list[dict[str, Any]]) -> None:
        self.payloads = payloads
        self.texts = [(p.get("text") or "").lower() for p in payloads]


class NameLookup:
    """Documents of one knowledge base whose text names any of a set of names."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._corpus: Corpus | None = None
        self._count = -1
        self._lock = threading.Lock()
        self._found: dict[tuple[tuple[str, ...], int], list[Source]] = {}  # every section of a run asks the same

    def corpus(self) -> Corpus:
        """The chunks' payloads, read once per process and again after an ingest (the chunk count changed); the
        page links (providers/search/links.py) read the same copy."""
        count = self.kb.count()
        with self._lock:
            if self._corpus is None or count != self._count:
                self._count = count
                self._found.clear()
                payloads = [] if count > MAX_SCANNED_CHUNKS else [p for page in self.kb.payloads() for p in page]
                self._corpus = Corpus(payloads)
            return self._corpus

    def naming(self, names: Sequence[str], limit: int) -> list[Source]:
        """Chunks whose text names one of `names`, those naming it most often first, at most `limit`. A chunk
        whose title is one of the names is the subject's own article, which the search by meaning finds: it is
        left out."""
        pattern = naming_pattern(names)
        if pattern is None:
            return []
        corpus = self.corpus()
        key = (tuple(sorted({name_text(n) for n in names})), limit)
        if key not in self._found:
            self._found[key] = self._scan(corpus, pattern, names, limit)
        return [Source(**s) for s in self._found[key]]

    @staticmethod
    def _scan(corpus: Corpus, pattern: re.Pattern[str], names: Sequence[str], limit: int) -> list[Source]:
        wanted = {name_text(n) for n in names}
        found: list[tuple[int, int]] = []
        # a plain substring test first (C speed): the regular expression runs on the few texts that can match
        needles = {max(key.split(), key=len) for key in wanted if key}
        for i, text in enumerate(corpus.texts):
            if not any(needle in text for needle in needles):
                continue
            if name_text(corpus.payloads[i].get("title") or "") in wanted:
                continue
            hits = len(pattern.findall(text))
            if hits:
                found.append((-hits, i))
        found.sort()
        out = []
        for _, i in found[:limit]:
            out.append(payload_source(corpus.payloads[i]))
        return out


@runtime_checkable
class NamingSearch(Protocol):
    """A backend that can also look documents up by the names they contain (the knowledge base can)."""

    async def naming(self, names: Sequence[str], limit: int) -> list[Source]: ...


def naming_backend(backend: object) -> NamingSearch | None:
    """The backend, or the one it wraps, when it can look names up; None for a web search."""
    return wrapped_backend(backend, NamingSearch)
