"""Which section prints a source that two sections gathered: the one the source is about.

Branches research apart, so two sections can gather the same article and print its passage twice. Sections are
written one paragraph per source, best source first (nodes/text/extractive.py), so the unit settled here is that
paragraph: it stays in the section whose title and outline match the source best, and goes from the others. But a
section's leading source (its first paragraph: what it is most about) is its own: a shared source leads some
section, it stays in the best-matching of those. Otherwise, on "The Renaissance in Italy and its artists", the
section on Leonardo (whose outline named Michelangelo too) took Michelangelo's article from the "Michelangelo"
section, which lost every other article the same way and was left out. Sentence-level repetition between
different sources is the collator's next step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.providers.relevance import Relevance
from nexa_research.state import Source
from nexa_research.urls import normalize_url

# A shared source that leads no section goes to the section it matches best, or, among the sections within this
# of the best (cosine), to the one printing the fewest sources: an Egyptian report's "Great Pyramid of Giza" kept one
# article of the four it found, while the broad first section kept six.
BALANCE_MARGIN = 0.05


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
    first_source: dict[int, str | None] = {}
    for i, draft in enumerate(drafts):
        first_source[i] = next((u for u in map(draft.source_of, draft.paragraphs()) if u is not None), None)
        for paragraph in draft.paragraphs():
            url = draft.source_of(paragraph)
            if url is not None:
                printed.setdefault(url, []).append((i, paragraph))
    drop: dict[int, list[str]] = {}
    # sources each section prints, counted down as shared ones are settled elsewhere
    holding = {i: {u for u in map(d.source_of, d.paragraphs()) if u is not None} for i, d in enumerate(drafts)}
    for url, places in printed.items():
        sections = sorted({i for i, _ in places})
        if len(sections) < 2:
            continue
        source = next(s for s in drafts[sections[0]].sources if normalize_url(s["url"]) == url)
        scores = relevance.similarity([drafts[i].about for i in sections], [f"{source['title']}. {source['text']}"])[:, 0]
        fit = dict(zip(sections, (float(x) for x in scores), strict=True))
        leading = sorted((i for i in sections if first_source[i] == url), key=lambda i: -fit[i])
        if leading:
            keep = leading[0]
        else:  # of the sections about as close as the best, the one with the fewest sources of its own
            near = [i for i in sections if fit[i] >= max(fit.values()) - BALANCE_MARGIN]
            keep = min(near, key=lambda i: (len(holding[i]), -fit[i]))
        for i, paragraph in places:
            if i != keep:
                drop.setdefault(i, []).append(paragraph)
                holding[i].discard(url)
    removed = 0
    for i, paragraphs in drop.items():
        kept = [p for p in drafts[i].paragraphs() if p not in paragraphs]
        removed += len(drafts[i].paragraphs()) - len(kept)
        contents[i] = "\n\n".join(kept)
    return contents, removed
