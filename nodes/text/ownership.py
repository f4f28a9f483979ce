"""Which section prints a source that two sections gathered: the one the source is about.

Branches research apart, so two sections can gather the same article and print its passage twice. Sections are
written one paragraph per source (nodes/text/extractive.py), so the unit settled here is that paragraph: it stays
in the section whose title and outline match the source best, and goes from the others. A section that would be
left with no source of its own keeps the paragraph instead (the other section has others), so a section is not
emptied to tidy another. Sentence-level repetition between different sources is the collator's next step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.providers.relevance import Relevance
from nexa_research.state import Source
from nexa_research.urls import normalize_url


@dataclass(frozen=True)
class SectionDraft:
    """A written section as the collator receives it: what it is about, its text (local [n]) and its sources."""

    about: str
    content: str
    sources: Sequence[Source]

    def paragraphs(self) -> list[str]:
        return [p for p in self.content.split("\n\n") if p.strip()]

    def source_of(self, paragraph: str) -> str | None:
        """The normalised URL a paragraph prints, when it cites exactly one source (a source's passage)."""
        numbers = set(cited_numbers(paragraph))
        if len(numbers) != 1:
            return None
        n = numbers.pop()
        return normalize_url(self.sources[n - 1]["url"]) if 1 <= n <= len(self.sources) else None


def settle_shared_sources(relevance: Relevance | None, drafts: Sequence[SectionDraft]) -> tuple[list[str], int]:
    """Section contents with each shared source's paragraph kept in one section only, and how many paragraphs went."""
    contents = [d.content for d in drafts]
    if relevance is None or len(drafts) < 2:
        return contents, 0
    printed: dict[str, list[tuple[int, str]]] = {}
    for i, draft in enumerate(drafts):
        for paragraph in draft.paragraphs():
            url = draft.source_of(paragraph)
            if url is not None:
                printed.setdefault(url, []).append((i, paragraph))
    drop: dict[int, list[str]] = {}
    for url, places in printed.items():
        sections = sorted({i for i, _ in places})
        if len(sections) < 2:
            continue
        source = next(s for s in drafts[sections[0]].sources if normalize_url(s["url"]) == url)
        scores = relevance.similarity([drafts[i].about for i in sections], [f"{source['title']}. {source['text']}"])[:, 0]
        ranked = sorted(zip(scores, sections, strict=True), key=lambda pair: -float(pair[0]))
        own_sources = {i: {drafts[i].source_of(p) for p in drafts[i].paragraphs()} - {None} for i in sections}
        alone = [i for _, i in ranked if len(own_sources[i]) == 1]
        keep = alone[0] if alone else ranked[0][1]
        for i, paragraph in places:
            if i != keep:
                drop.setdefault(i, []).append(paragraph)
    removed = 0
    for i, paragraphs in drop.items():
        kept = [p for p in drafts[i].paragraphs() if p not in paragraphs]
        removed += len(drafts[i].paragraphs()) - len(kept)
        contents[i] = "\n\n".join(kept)
    return contents, removed
