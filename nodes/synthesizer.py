"""synthesize: write one section from its numbered sources only, then check every citation in code.

Sources are numbered 1..k in the order they were gathered (cut to the context budget). A draft citing a number
outside 1..k is sent back once with the reason; whatever invalid numbers remain after that are removed, and
the count is recorded. Repeated sentences are removed in code.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from nexa_research.config import ResearchConfig
from nexa_research.nodes.citations import repair_citations
from nexa_research.nodes.metering import StepMeter
from nexa_research.nodes.prompt_inputs import numbered_sources, paragraph_fields
from nexa_research.nodes.repetition import as_plain_paragraphs, drop_repeated_sentences
from nexa_research.prompts import load_prompt
from nexa_research.providers.chat_models import PROVIDER_FAILURES, answered_by
from nexa_research.providers.provider_set import Providers
from nexa_research.state import BranchState, Paragraph

SECTION_WORDS = (400, 800)


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
            checked = repair_citations(str(draft.content), len(shown))
            repairs = len(checked.invalid)
            if checked.invalid or not checked.valid:
                problem = (
                    f"you cited {sorted(set(checked.invalid))}, but only sources 1 to {len(shown)} exist"
                    if checked.invalid
                    else "no sentence cites a source"
                )
                retry = await models.text(
                    [*messages, AIMessage(str(draft.content)), HumanMessage(f"Rejected: {problem}. Rewrite the section.")]
                )
                meter.add_call("synthesizer", answered_by(retry, models.labels[0]), retry)
                second = repair_citations(str(retry.content), len(shown))
                repairs += len(second.invalid)
                if second.valid or not checked.valid:
                    checked = second
        except PROVIDER_FAILURES as exc:
            missing = Paragraph(**{**paragraph, "status": "missing", "error": f"synthesizer failed: {exc}"})
            return {"paragraphs": [missing], "steps": meter.record()}
        text, _ = drop_repeated_sentences(as_plain_paragraphs(checked.text))
        done = Paragraph(
            **{
                **paragraph,
                "latest_summary": text,
                "status": "done",
                "citation_repairs": repairs,
            }
        )
        return {"paragraphs": [done], "steps": meter.record()}

    return synthesize

