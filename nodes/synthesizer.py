"""synthesize: write one section from its numbered sources only, then check every citation in code.

Sources are numbered 1..k in the order they were gathered (cut to the context budget). Code then removes
citations outside 1..k, headings, lists and repeated sentences, and grounds the rest (nodes/grounding.py):
uncited sentences get the number of the source that supports them, unsupported ones are dropped. A draft that
cited numbers that do not exist, or that ends up citing nothing, is sent back once with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from nexa_research.config import ResearchConfig
from nexa_research.nodes.citations import repair_citations
from nexa_research.nodes.grounding import GroundedText, ground_section
from nexa_research.nodes.metering import StepMeter
from nexa_research.nodes.prompt_inputs import numbered_sources, paragraph_fields
from nexa_research.nodes.repetition import as_plain_paragraphs, drop_repeated_sentences, without_questions
from nexa_research.prompts import load_prompt
from nexa_research.providers.chat_models import PROVIDER_FAILURES, answered_by
from nexa_research.providers.provider_set import Providers
from nexa_research.state import BranchState, Paragraph, Source

SECTION_WORDS = (400, 800)


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


def make_synthesize_node(providers: Providers):
    async def synthesize(state: BranchState, config: RunnableConfig) -> dict[str, Any]:
        paragraph = state["paragraph"]
        meter = StepMeter("synthesize", paragraph["index"])
        if paragraph["status"] == "missing":
            return {"paragraphs": [paragraph], "steps": meter.record()}
        cfg = ResearchConfig.from_runnable_config(config)
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
        try:
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
        except PROVIDER_FAILURES as exc:
            missing = Paragraph(**{**paragraph, "status": "missing", "error": f"synthesizer failed: {exc}"})
            return {"paragraphs": [missing], "steps": meter.record()}
        if not result.grounded.text.strip():
            reason = "the synthesizer wrote nothing its sources support"
            missing = Paragraph(**{**paragraph, "status": "missing", "error": reason})
            return {"paragraphs": [missing], "steps": meter.record()}
        done = Paragraph(
            **{
                **paragraph,
                "latest_summary": result.grounded.text,
                "status": "done",
                "citation_repairs": result.repairs,
                "unsupported_removed": result.grounded.dropped,
            }
        )
        return {"paragraphs": [done], "steps": meter.record()}

    return synthesize

