"""The editor's text (summary, introduction, transitions, conclusion), checked against the sections in code.

The editor model sees every section and writes the parts that tie them together; a small one copies section
sentences word for word, states things no section says, and leaves fragments. So, sentence by sentence:
- summary and conclusion state findings: a sentence stays only if a section sentence supports it and nearly
  every word of it is in the sections (nodes/text/word_support.py), and it is cited to that sentence's sources
  (numbers the model wrote are replaced, never trusted);
- transitions frame the report: they stay when they are on the topic, uncited. The editor's introduction is not
  used: the facts a small model states there merge sentences into falsehoods that pass a word check ("The canal
  begins commercial operation on 26 June 2016", of the Panama Canal, from its expansion's date); the introduction
  and summary are the sections' own key sentences, moved up in code (nodes/text/key_findings.py);
- everything goes if it is a fragment, a sentence about the report itself (graph/kernel/self_reference.py: "The
  report concludes by discussing ..." passed the support check, its words being the sections'), or repeats what
  is already printed anywhere in the report.
A part no section and no source can give a finding for is left empty, and the report prints no heading for it: a
sentence about the report ("Each of the 4 sections below answers ...") tells a reader nothing. Only a report
with no section at all says why in its summary (`plain_summary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nexa_research.kernel.self_reference import self_reference
from nexa_research.kernel.sentences import CITATION, leans_on_previous, split_sentences
from nexa_research.nodes.text.fragments import printable
from nexa_research.nodes.text.repetition import as_plain_paragraphs, drop_near_duplicates
from nexa_research.nodes.text.word_support import FINDING_SHARE, content_stems, words_from
from nexa_research.providers.relevance import Relevance

PART_CHARS = 2000

# A printed sentence of this many content words or more, all of them in a finding, is what the finding restates.
MIN_RESTATED_WORDS = 5


def fit(text: str, limit: int = PART_CHARS) -> str:
    """`text` cut to at most `limit` characters at a sentence boundary (a bound of the report, never exceeded)."""
    if len(text) <= limit:
        return text
    out = ""
    for sentence in split_sentences(text):
        if len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    return out or text[:limit].rsplit(" ", 1)[0]


@dataclass(frozen=True)
class Evidence:
    """One printed section sentence: its bare text and the citation markers it carries."""

    text: str
    citations: str


def section_evidence(contents: Sequence[str]) -> list[Evidence]:
    out = []
    for content in contents:
        for sentence in split_sentences(content.replace("\n\n", " ")):
            markers = "".join(m.group(0) for m in CITATION.finditer(sentence))
            out.append(Evidence(CITATION.sub("", sentence).strip(), markers))
    return out


def _clean_sentences(text: str) -> list[str]:
    cleaned, _ = printable(as_plain_paragraphs(CITATION.sub("", text)))
    return split_sentences(cleaned.replace("\n\n", " "))


def findings(relevance: Relevance, text: str, evidence: Sequence[Evidence], printed: list[str]) -> str:
    """Summary or conclusion: supported sentences only, each cited like the section sentence that supports it."""
    sentences = _clean_sentences(text)
    if not sentences or not evidence:
        return ""
    kept: list[str] = []
    previous_kept = False
    for sentence, cited in _supported(relevance, sentences, evidence):
        cited = "" if self_reference(sentence) else cited
        # a pronoun or connective with nothing before it points at nothing: the Hanseatic League report's
        # conclusion opened "Its influence has been evident in ..."
        previous_kept = bool(cited) and (previous_kept or not leans_on_previous(sentence, first=True))
        if previous_kept:
            kept.append(cited)
    # a restatement of a printed sentence that wrote its pronoun out ("The ancient Olympic Games ... continue to be
    # celebrated when Greece came under Roman rule" beside the section's "They continued to be celebrated ...",
    # 0.77 apart: the name weighs in the comparison) holds every content word of it
    printed_stems = [st for st in (content_stems(CITATION.sub("", p)) for p in printed) if len(st) >= MIN_RESTATED_WORDS]
    kept = [k for k, own in ((k, content_stems(CITATION.sub("", k))) for k in kept)
            if not any(st <= own for st in printed_stems)]
    result, _ = drop_near_duplicates(relevance, " ".join(kept), printed)
    return result


def _supported(relevance: Relevance, sentences: list[str], evidence: Sequence[Evidence]) -> list[tuple[str, str]]:
    """Each sentence with its cited form, or "" when no section sentence supports it in meaning and in words."""
    if not evidence:
        return [(s, "") for s in sentences]
    sims = relevance.similarity(sentences, [e.text for e in evidence])
    stems = content_stems(" ".join(e.text for e in evidence))
    out = []
    for i, sentence in enumerate(sentences):
        j = int(sims[i].argmax())
        ok = float(sims[i, j]) >= relevance.thresholds.supports and words_from(sentence, stems, FINDING_SHARE)
        out.append((sentence, f"{sentence.rstrip('.!')} {evidence[j].citations}.".replace(" .", ".") if ok else ""))
    return out


def framing(relevance: Relevance, topic: str, text: str, printed: list[str]) -> str:
    """A transition: on-topic, uncited, not a repeat, not a fragment."""
    sentences = _clean_sentences(text)
    if not sentences:
        return ""
    to_topic = relevance.similarity([topic], sentences)[0]
    kept = [s for s, score in zip(sentences, to_topic, strict=True)
            if float(score) >= relevance.thresholds.on_section and not self_reference(s)]
    result, _ = drop_near_duplicates(relevance, " ".join(kept), printed)
    return result


def tidied(text: str, printed: list[str]) -> str:
    """Without a relevance scorer: fragments, headings, sentences about the report and exact repeats removed, the
    model's citations kept."""
    cleaned, _ = printable(as_plain_paragraphs(text))
    cleaned = " ".join(s for s in split_sentences(cleaned.replace("\n\n", " ")) if not self_reference(s))
    result, _ = drop_near_duplicates(None, cleaned, printed)
    return result


_LOWER_LEADS = frozenset("how why what when where who which whether the a an".split())


def topic_phrase(topic: str) -> str:
    """The topic as it reads inside a sentence: "How X changed Y" -> "how X changed Y", "The Z" -> "the Z"."""
    first, _, rest = topic.strip().partition(" ")
    if first.lower() in _LOWER_LEADS:
        return f"{first.lower()} {rest}".strip()
    return topic.strip()


def plain_summary(topic: str, titles: Sequence[str]) -> str:
    """The summary of a report without findings to give: why, when no section could be researched; otherwise
    nothing."""
    if not titles:
        return f"No section of the report on {topic_phrase(topic)} could be researched; each section gives the reason."
    return ""


def plain_introduction(topic: str, titles: Sequence[str]) -> str:
    """An introduction without a finding to state: nothing (the topic and the sections are in the title and the
    headings; "Each of the 4 sections below answers its own questions ..." said only that a report exists)."""
    if not titles:
        return f"No source found could introduce {topic_phrase(topic)}."
    return ""


def plain_conclusion(topic: str, titles: Sequence[str]) -> str:
    """A conclusion without a finding to state: nothing ("The report stops where its sources stop ..." was a
    sentence about the report, counted against it)."""
    if not titles:
        return f"The sources available could not support a report on {topic_phrase(topic)}."
    return ""


def spread_summary(summary: str, introduction: str, conclusion: str) -> tuple[str, str, str]:
    """The conclusion, then the introduction, when still empty, takes the summary's last sentence while the summary
    keeps one: a penicillin report's three findings all went to the summary, and it closed on a sentence about the
    report ("The report stops where its sources stop ...") instead of one of them. Each summary sentence was
    chosen to stand alone, so it reads as well in either place."""
    sentences = split_sentences(summary)
    parts = {"introduction": introduction, "conclusion": conclusion}
    for part in ("conclusion", "introduction"):
        if not parts[part] and len(sentences) > 1:
            parts[part] = sentences.pop().strip()
    return " ".join(s.strip() for s in sentences), parts["introduction"], parts["conclusion"]

