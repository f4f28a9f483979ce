"""Which section prints what of a source that several sections gathered: each part goes to the section it is about.

Branches research apart, so two sections can gather the same article and print its passage twice. Sections are
written one paragraph per source (nodes/text/extractive.py); the unit settled here is a part of that paragraph: a
sentence with the sentences that lean on it ("He ruled the Golden Horde ...", "The disease was caused by ..."), so
no part loses its subject. Each part stays in the section it matches best and goes from the others, so one
article can give its sentence on Manaus to the section on Manaus and its sentence on the rainforest to the section
on the rainforest: a report drawn from nine articles no longer prints each in one section only (the Amazon report
of issue 17 had 4-6 sources gathered per section and cited 1-2 of them).

A section's leading source (the one it is most about, `leading_source`) is its own: the section keeps the
source's opening and every part about as close to it as to the best other section. Otherwise, on "The Renaissance
in Italy and its artists", the section on Leonardo (whose outline named Michelangelo too) took Michelangelo's
article from the "Michelangelo" section, which lost every other article the same way and was left out.
Sentence-level repetition between different sources is the collator's next step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nexa_research.kernel.calibration import cutoff
from nexa_research.kernel.sentences import (
    CITATION,
    leans_on_previous,
    naming_sentence,
    sentence_key,
    split_sentences,
    written_alone,
)
from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.nodes.text.fragments import passage_sentences
from nexa_research.providers.relevance import Relevance, embedded_text
from nexa_research.state import Source
from nexa_research.urls import normalize_url

# A part goes to the section it matches best, or, among the sections within this of the best (cosine), to its
# source's leading section, else to the one printing the fewest sources: an Egyptian report's "Great Pyramid of
# Giza" kept one article of the four it found, while the broad first section kept six.
BALANCE_MARGIN = cutoff("balance_margin")


@dataclass(frozen=True)
class SectionDraft:
    """A written section as the collator receives it: what it is about, its text (local [n]) and its sources."""

    about: str
    content: str
    sources: Sequence[Source]

    def paragraphs(self) -> list[str]:
        return [p for p in self.content.split("\n\n") if p.strip()]

    def source_of(self, paragraph: str) -> str | None:
        """The normalised URL a paragraph prints, when it cites one document (a source's passage). One document
        can be two of the section's sources, its sentences naming the subject found by name and its opening found
        by a query (a Great Depression report's "Harry S. Truman" section cited [1] and [2] in Truman's one
        paragraph, which was then nobody's passage and never settled)."""
        numbers = set(cited_numbers(paragraph))
        if not numbers or not all(1 <= n <= len(self.sources) for n in numbers):
            return None
        urls = {normalize_url(self.sources[n - 1]["url"]) for n in numbers}
        return urls.pop() if len(urls) == 1 else None


def uncited(sentence: str) -> str:
    """A printed sentence as its source wrote it: "... world [1]." -> "... world." (nodes/text/extractive.cite)."""
    return re.sub(r"\s+([.!?\"'”]+)$", r"\1", CITATION.sub("", sentence).strip())


def parts(paragraph: str, relevance: Relevance | None = None) -> list[list[str]]:
    """A paragraph's sentences grouped into parts: each sentence with the ones that lean on it.

    With a scorer, a sentence that leans only by a pronoun for the subject its chain names starts a part of its
    own: written out ("He shared the 1945 Nobel Prize ..." -> "Sir Alexander Fleming shared ...", kernel
    `written_alone`) it reads in any section. A biography's opening is one chain of "He ...", "His ..."
    sentences, so a whole passage used to be one part: the penicillin report's Fleming passage went whole to the
    section "Alexander Fleming", and "Discovery of penicillin", whose sources it was, was left out with nothing to
    print. Not when the written-out sentence restates one before it (`_restates`)."""
    sentences = split_sentences(paragraph)
    out: list[list[str]] = []
    for k, sentence in enumerate(sentences):
        if out and leans_on_previous(sentence):
            alone = written_alone(sentences[:k], sentence) if relevance is not None else None
            if alone is None or _restates(relevance, sentences[:k], alone):
                out[-1].append(sentence)
                continue
        out.append([sentence])
    return out


def _restates(relevance: Relevance | None, before: Sequence[str], alone: str) -> bool:
    """Written out, a pronoun's sentence can near-copy the sentence that named its subject ("It is a subfield of
    physics" -> "Electronics is a subfield of physics", 0.88 from the definition before it): such a sentence stays
    with it, or two sections would print the pair as a repetition."""
    named = naming_sentence(before)
    if relevance is None or named is None:
        return False
    score = relevance.similarity([uncited(alone)], [uncited(named)])[0, 0]
    return bool(score >= relevance.thresholds.duplicate)


def leading_source(relevance: Relevance, draft: SectionDraft) -> str | None:
    """The normalised URL of the source a section is most about: of those it prints, the one whose title and
    passage are closest to the section (its title and outline, without the topic). Not simply its first
    paragraph: the writer orders paragraphs by closeness to the section and the topic together, so a Great
    Depression report's section "Harry S. Truman" printed Roosevelt's passage first (his article names the
    Depression), took Roosevelt's opening as its own, and the section "Franklin D. Roosevelt" printed Truman."""
    printed = list(dict.fromkeys(u for u in map(draft.source_of, draft.paragraphs()) if u is not None))
    if len(printed) < 2:
        return printed[0] if printed else None
    by_url = {normalize_url(s["url"]): s for s in draft.sources}
    texts = [embedded_text(by_url[u]["title"], by_url[u]["text"]) for u in printed]
    scores = relevance.similarity([draft.about], texts)[0]
    return printed[int(scores.argmax())]


def settle_shared_sources(relevance: Relevance | None, drafts: Sequence[SectionDraft]) -> tuple[list[str], int]:
    """Section contents with each part of a shared source printed in one section only, and how many sentences went."""
    contents = [d.content for d in drafts]
    if relevance is None or len(drafts) < 2:
        return contents, 0
    printed: dict[str, list[int]] = {}
    lead_source: dict[int, str | None] = {}
    for i, draft in enumerate(drafts):
        lead_source[i] = leading_source(relevance, draft)
        for paragraph in draft.paragraphs():
            url = draft.source_of(paragraph)
            if url is not None and i not in printed.get(url, []):
                printed.setdefault(url, []).append(i)
    # sources each section prints, counted down as the last part of one is settled elsewhere
    holding = {i: {u for u in map(d.source_of, d.paragraphs()) if u is not None} for i, d in enumerate(drafts)}
    parts_left: dict[tuple[int, str], set[str]] = {}  # (section, source) -> parts of it the section still prints
    drop: dict[int, set[str]] = {}  # section -> keys of the sentences it gives up
    moves: dict[int, dict[str, list[str]]] = {}  # section -> source -> sentences it prints after its own of it
    for url, sections in printed.items():
        if len(sections) < 2:
            continue
        source = next(s for s in drafts[sections[0]].sources if normalize_url(s["url"]) == url)
        opening = sentence_key(next(iter(passage_sentences(source["text"])), ""))
        offered: dict[str, dict[int, list[str]]] = {}  # part (key of its first sentence) -> section -> its sentences
        for i in sections:
            for paragraph in drafts[i].paragraphs():
                if drafts[i].source_of(paragraph) == url:
                    for part in parts(paragraph, relevance):
                        offered.setdefault(sentence_key(part[0]), {})[i] = part
                        parts_left.setdefault((i, url), set()).add(sentence_key(part[0]))
        leading = [i for i in sections if lead_source[i] == url]
        if not leading:
            # a source no section is about goes whole, to the section that fits it best or, among the sections about
            # as close, to the one printing the fewest sources: split by parts, each part went to the same broad
            # section and a section of three left with nothing (the printing press's "Effects on literacy")
            whole = relevance.similarity([drafts[i].about for i in sections], [embedded_text(source["title"], source["text"])])
            fit = dict(zip(sections, (float(x) for x in whole[:, 0]), strict=True))
            near = [i for i in sections if fit[i] >= max(fit.values()) - BALANCE_MARGIN]
            keep = min(near, key=lambda i: (len(holding[i]), -fit[i]))
            for key, holders in offered.items():
                if keep not in holders:
                    continue  # what the keeper does not print stays where it is: dropped, it was printed nowhere
                for i in holders:
                    if i != keep:
                        drop.setdefault(i, set()).update(sentence_key(s) for s in holders[i])
                        parts_left[(i, url)].discard(key)
            for i in sections:
                if i != keep and not parts_left[(i, url)]:
                    holding[i].discard(url)
            continue
        for key, holders in offered.items():
            if len(holders) < 2:
                moved_from = _move_to_leading(relevance, drafts, url, leading, holders, moves, drop)
                if moved_from is not None:
                    parts_left[(moved_from, url)].discard(key)
                    if not parts_left[(moved_from, url)]:
                        holding[moved_from].discard(url)
                continue
            places = sorted(holders)
            # a part is about what its first sentence says (the rest lean on it); the article's title would pull
            # every part to the article's section. The sentence as the source has it is embedded already.
            texts = [uncited(holders[i][0]) for i in places]
            scores = relevance.similarity([drafts[i].about for i in places], texts).diagonal()
            fit = dict(zip(places, (float(x) for x in scores), strict=True))
            near = [i for i in places if fit[i] >= max(fit.values()) - BALANCE_MARGIN]
            own = [i for i in places if i in leading and (key == opening or i in near)]
            if own:
                keep = max(own, key=lambda i: fit[i])
            else:  # of the sections about as close as the best, the one with the fewest sources of its own
                keep = min(near, key=lambda i: (len(holding[i]), -fit[i]))
                keep = _section_about(relevance, drafts, keep, [i for i in leading if i in places], holders[keep][0])
            for i in places:
                if i != keep:
                    drop.setdefault(i, set()).update(sentence_key(s) for s in holders[i])
                    parts_left[(i, url)].discard(key)
                    if not parts_left[(i, url)]:
                        holding[i].discard(url)
    removed = -sum(len(m) for by_source in moves.values() for m in by_source.values())  # moved, not removed
    for i, keys in drop.items():
        kept_paragraphs = []
        for paragraph in drafts[i].paragraphs():
            sentences = split_sentences(paragraph)
            if drafts[i].source_of(paragraph) is None:
                kept_paragraphs.append(paragraph)
                continue
            kept = []
            url = drafts[i].source_of(paragraph)
            for k, sentence in enumerate(sentences):
                if sentence_key(sentence) in keys:
                    continue
                if k > 0 and sentence_key(sentences[k - 1]) in keys and leans_on_previous(sentence):
                    # a part that starts on a pronoun (`parts`), printed without the sentence it followed
                    sentence = written_alone(sentences[:k], sentence) or sentence
                kept.append(sentence)
            removed += len(sentences) - len(kept)
            kept += moves.get(i, {}).pop(url or "", [])
            if kept:
                kept_paragraphs.append(" ".join(kept))
        contents[i] = "\n\n".join(kept_paragraphs)
    for i, by_source in moves.items():  # a leading section that gives up nothing of its own is written here
        if any(by_source.values()):
            contents[i] = "\n\n".join(
                " ".join([p, *by_source.get(drafts[i].source_of(p) or "", [])]) for p in drafts[i].paragraphs()
            )
    return contents, removed


def _written_out(draft: SectionDraft, sentence: str) -> str:
    """A part's first sentence as it reads without the sentence before it: written out when it leans on it by a
    pronoun for its chain's subject ("In 1785, he underwent ..." -> "In 1785, William Wilberforce underwent ..."),
    which is how it reads moved and how it is judged for a move (`_section_about`)."""
    for paragraph in draft.paragraphs():
        before = split_sentences(paragraph)
        if sentence in before and before.index(sentence) > 0 and leans_on_previous(sentence):
            return written_alone(before[: before.index(sentence)], sentence) or sentence
    return sentence


def _section_about(
    relevance: Relevance, drafts: Sequence[SectionDraft], holder: int, leading: Sequence[int], sentence: str
) -> int:
    """Where a part of a source belongs: its `holder`, unless the part is not about the holder's section (below
    the on-section cut-off, written out: `_written_out`) and a section about its source (`leading`) is closer.
    The Atlantic slave trade report printed "A native of Kingston upon Hull, Yorkshire, William Wilberforce began
    his political career in 1780 ..." (0.18 against it, 0.39 against the section on Wilberforce) in the section on
    Robespierre, while the section on Wilberforce printed his opening sentence alone. A part about the section it
    is in stays, whatever its source: Roosevelt's "first two terms were centered on combating the Great
    Depression" serves the section on the New Deal (0.52), as a section draws on several sources."""
    candidates = [i for i in leading if i != holder]
    if not candidates:
        return holder
    form = uncited(_written_out(drafts[holder], sentence))
    fit = relevance.similarity([drafts[i].about for i in (holder, *candidates)], [form])[:, 0]
    best = max(range(1, len(fit)), key=lambda k: float(fit[k]))
    if float(fit[0]) >= relevance.thresholds.on_section or float(fit[best]) <= float(fit[0]):
        return holder
    return candidates[best - 1]


def _move_to_leading(
    relevance: Relevance,
    drafts: Sequence[SectionDraft],
    url: str,
    leading: Sequence[int],
    holders: dict[int, list[str]],
    moves: dict[int, dict[str, list[str]]],
    drop: dict[int, set[str]],
) -> int | None:
    """A part of a source printed only outside the section about that source goes there, after its passage, when
    it is not about the section it is in (`_section_about`). The section it left, or None."""
    [(holder, part)] = holders.items()
    target = _section_about(relevance, drafts, holder, leading, part[0])
    if target == holder:
        return None
    number = _passage_number(drafts[target], url, part)
    if number is None:
        return None
    first = _written_out(drafts[holder], part[0])  # it followed a sentence of its source that stays behind
    moved = [CITATION.sub(f"[{number}]", s) for s in (first, *part[1:])]
    moves.setdefault(target, {}).setdefault(url, []).extend(moved)
    drop.setdefault(holder, set()).update(sentence_key(s) for s in part)
    return holder


def _passage_number(draft: SectionDraft, url: str, part: Sequence[str]) -> int | None:
    """The number under which `draft` cites a passage of `url` holding every sentence of `part`, or None. A
    section can hold only the sentences of a document that name the subject (nodes/text/excerpts.py): a part
    cited to that excerpt would cite a passage that does not say it."""
    wanted = {sentence_key(uncited(s)) for s in part}
    for number, source in enumerate(draft.sources, start=1):
        if normalize_url(source["url"]) == url and wanted <= {sentence_key(x) for x in passage_sentences(source["text"])}:
            return number
    return None
