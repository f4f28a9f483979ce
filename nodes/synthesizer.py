"""synthesize: write one section from its numbered sources only, with every citation decided or checked in code.

Two ways of writing (config `writing`):
- extractive (default): the section is the on-topic passages of its sources, chosen and cited in code
  (nodes/text/extractive.py); the model writes only a one- or two-sentence lead, kept where a chosen sentence
  supports it in meaning and in words, subject included (nodes/text/word_support.py). Built for small local models, which cannot paraphrase without drifting.
- abstractive: the model writes the section from sources numbered 1..k in the order they were gathered (cut to
  the context budget). Code then removes citations outside 1..k, headings, lists and repeated sentences, and
  grounds the rest (nodes/text/grounding.py). A draft that cited numbers that do not exist, or that ends up citing
  nothing, is sent back once with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import ProviderError
from nexa_research.kernel.sentences import NEEDS_ANTECEDENT, split_sentences
from nexa_research.nodes.accounting.metering import StepMeter
from nexa_research.nodes.progress import section_progress
from nexa_research.nodes.text.citations import repair_citations
from nexa_research.nodes.text.extractive import Candidate, cite, extract_section, supported
from nexa_research.nodes.text.fragments import printable
from nexa_research.nodes.text.grounding import GroundedText, ground_section
from nexa_research.nodes.text.prompt_inputs import numbered_sources, paragraph_fields
from nexa_research.nodes.text.repetition import as_plain_paragraphs, drop_repeated_sentences, without_questions
from nexa_research.nodes.text.word_support import LEAD_SHARE, content_stems, words_from
from nexa_research.prompts import load_prompt
from nexa_research.providers.llm.chat_models import answered_by
from nexa_research.providers.provider_set import Providers
from nexa_research.providers.relevance import Relevance
from nexa_research.state import BranchState, Paragraph, Source

SECTION_WORDS = (400, 800)
logger = logging.getLogger(__name__)


@dataclass
class FinishedSection:
    grounded: GroundedText
    invalid: list[int]
    repairs: int


def finish_section(draft: str, sources: list[Source]) -> FinishedSection:
    """Model draft -> section text: invalid citations removed, prose cleaned, repeats dropped, then grounded."""
    checked = repair_citations(draft, len(sources))
    text, _ = drop_repeated_sentences(without_questions(as_plain_paragraphs(checked.text)))
    return FinishedSection(grounded=ground_section(text, sources), invalid=checked.invalid, repairs=len(checked.invalid))


def checked_lead(relevance: Relevance, lead: str, chosen: list[Candidate]) -> tuple[str, int]:
    """The model's lead, sentence by sentence: kept (and cited) only where a chosen sentence supports it and it
    does not simply repeat one; fragments go. Returns the lead and how many sentences were dropped."""
    text, dropped = printable(as_plain_paragraphs(repair_citations(lead, 0).text))
    sentences = split_sentences(text.replace("\n", " "))
    # words from the one source the lead sentence would cite: a small model joins one article's subject to another's
    # predicate ("Charles Darwin and the theory of evolution by natural selection is a work of scientific literature
    # by the Alfred Russel Wallace", from the Darwin, Wallace and Origin of Species sentences), which every word
    # of all the chosen sentences together would let through
    stems_of = {n: content_stems(" ".join(c.text for c in chosen if c.source == n)) for n in {c.source for c in chosen}}
    kept = []
    if sentences and NEEDS_ANTECEDENT.match(sentences[0]):
        dropped += 1  # "This disease ..." opening a section points at nothing
        sentences = sentences[1:]
    for sentence, support in supported(relevance, sentences, [c.text for c in chosen])[:2]:
        repeats = support is not None and float(
            relevance.similarity([sentence], [chosen[support].text])[0, 0]
        ) >= relevance.thresholds.duplicate
        if support is None or repeats or not words_from(
            sentence, stems_of[chosen[support].source], LEAD_SHARE, same_subject=True
        ):
            dropped += 1
            continue
        kept.append(cite(sentence, chosen[support].source))
    return " ".join(kept), dropped + max(0, len(sentences) - 2)


def _missing(paragraph: Paragraph, reason: str) -> Paragraph:
    return Paragraph(**{**paragraph, "status": "missing", "error": reason})


def written(paragraph: Paragraph) -> None:
    """The section's last progress event: done (with its length) or missing (with the reason)."""
    if paragraph["status"] == "done":
        extra: dict[str, Any] = {"words": len(paragraph["latest_summary"].split())}
    else:
        extra = {"error": paragraph.get("error")}
    section_progress(paragraph, paragraph["status"], sources_total=len(paragraph["research"]), **extra)


def make_synthesize_node(providers: Providers):
    async def write_extractive(state: BranchState, cfg: ResearchConfig, meter: StepMeter) -> Paragraph:
        paragraph = state["paragraph"]
        relevance = providers.relevance()
        assert relevance is not None  # chosen only with a scorer (see synthesize)
        sources = paragraph["research"]
        body, chosen = await asyncio.to_thread(
            extract_section, relevance, state["topic"], paragraph, sources, min_score=cfg.min_relevance
        )
        if not chosen:
            return _missing(paragraph, "no sentence of the sources found answers this section")
        numbered = "\n".join(f"[{c.source}] {c.text}" for c in sorted(chosen, key=lambda c: (c.source, c.position)))
        messages = load_prompt("synthesizer_lead").messages(
            topic=state["topic"], sentences=numbered, language=cfg.language, **paragraph_fields(paragraph)
        )
        lead, dropped = "", 0
        models = await providers.arole_models("synthesizer", cfg)
        try:
            answer = await models.text(messages)
            meter.add_call("synthesizer", answered_by(answer, models.labels[0]), answer)
            lead, dropped = await asyncio.to_thread(checked_lead, relevance, str(answer.content), chosen)
        except ProviderError as exc:
            logger.warning("section %r: the lead was not written (%s); the section is printed without it", paragraph["title"], exc)
        text = f"{lead}\n\n{body}" if lead else body
        return Paragraph(**{**paragraph, "latest_summary": text, "status": "done", "citation_repairs": 0,
                            "unsupported_removed": dropped})

    async def write_abstractive(state: BranchState, cfg: ResearchConfig, meter: StepMeter) -> Paragraph:
        paragraph = state["paragraph"]
        sources_text, shown = numbered_sources(paragraph["research"], cfg.context_token_budget)
        messages = load_prompt("synthesizer").messages(
            topic=state["topic"],
            sources=sources_text,
            language=cfg.language,
            min_words=SECTION_WORDS[0],
            max_words=SECTION_WORDS[1],
            **paragraph_fields(paragraph),
        )
        models = await providers.arole_models("synthesizer", cfg)
        draft = await models.text(messages)
        meter.add_call("synthesizer", answered_by(draft, models.labels[0]), draft)
        result = finish_section(str(draft.content), shown)
        if result.invalid or not result.grounded.cited:
            problem = (
                f"you cited {sorted(set(result.invalid))}, but only sources 1 to {len(shown)} exist"
                if result.invalid
                else "no sentence cites a source"
            )
            retry = await models.text(
                [*messages, AIMessage(str(draft.content)), HumanMessage(f"Rejected: {problem}. Rewrite the section.")]
            )
            meter.add_call("synthesizer", answered_by(retry, models.labels[0]), retry)
            second = finish_section(str(retry.content), shown)
            second.repairs += result.repairs
            if second.grounded.cited >= result.grounded.cited:
                result = second
            else:
                result.repairs = second.repairs
        text = printable(result.grounded.text)[0]
        if not text.strip():
            return _missing(paragraph, "the synthesizer wrote nothing its sources support")
        return Paragraph(**{**paragraph, "latest_summary": text, "status": "done", "citation_repairs": result.repairs,
                            "unsupported_removed": result.grounded.dropped})

    async def synthesize(state: BranchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
        paragraph = state["paragraph"]
        meter = StepMeter("synthesize", paragraph["index"])
        if paragraph["status"] == "missing":
            written(paragraph)
            return {"paragraphs": [paragraph], "steps": meter.record()}
        cfg = ResearchConfig.from_runnable_config(config, runtime.context)
        extractive = cfg.writing == "extractive" and providers.relevance() is not None
        write = write_extractive if extractive else write_abstractive
        try:
            done = await write(state, cfg, meter)
        except ProviderError as exc:
            done = _missing(paragraph, f"synthesizer failed: {exc}")
        written(done)
        return {"paragraphs": [done], "steps": meter.record()}

    return synthesize
