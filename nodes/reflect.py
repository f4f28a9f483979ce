"""reflect: are the sources enough for this section? Structured {sufficient, gaps, next_query}.

The loop cap is enforced in code (search stops at `max_iterations`), never left to the model.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nexa_research.config import ResearchConfig
from nexa_research.nodes.metering import StepMeter
from nexa_research.nodes.prompt_inputs import numbered_sources, paragraph_fields
from nexa_research.prompts import load_prompt
from nexa_research.providers.chat_models import PROVIDER_FAILURES
from nexa_research.providers.provider_set import Providers
from nexa_research.state import BranchState

Gap = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]


class ReflectionOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sufficient: bool = Field(description="True when the sources answer most key questions.")
    gaps: list[Gap] = Field(default_factory=list, max_length=3, description="What is still missing.")
    next_query: str = Field(default="", max_length=200, description="The next search query, or empty if sufficient.")


def make_reflect_node(providers: Providers):
    async def reflect(state: BranchState, config: RunnableConfig) -> dict[str, Any]:
        paragraph = state["paragraph"]
        cfg = ResearchConfig.from_runnable_config(config)
        meter = StepMeter("reflect", paragraph["index"])
        sources_text, _ = numbered_sources(paragraph["research"], cfg.context_token_budget, per_source_chars=500)
        messages = load_prompt("reflection").messages(
            topic=state["topic"], sources=sources_text, **paragraph_fields(paragraph)
        )
        try:
            answer = await (await providers.arole_models("reflection", cfg)).structured(ReflectionOutput, messages)
        except PROVIDER_FAILURES as exc:
            stopped = {**paragraph, "stop_reason": f"reflection failed: {exc}"}
            return {"paragraph": stopped, "steps": meter.record()}
        meter.add_call("reflection", answer.model, answer.message)
        result: ReflectionOutput = answer.parsed
        reflection = {"sufficient": result.sufficient, "gaps": list(result.gaps), "next_query": result.next_query.strip()}
        updated = dict(paragraph)
        if result.sufficient:
            updated["stop_reason"] = "sufficient"
        elif paragraph["iterations"] >= cfg.max_iterations:
            updated["stop_reason"] = "iteration_cap"
        return {
            "paragraph": updated,
            "reflection": reflection,
            "pending_query": reflection["next_query"] or None,
            "steps": meter.record(),
        }

    return reflect
