"""An optional second opinion from a language model: is each section grounded in the passages it cites?

The embedding measures cannot read: a sentence that copies its source but changes a date scores as supported.
A capable model reading the section beside its cited passages can catch that, at a price, so the judge runs only
when a judge model is configured. It uses openevals' LLM-as-judge with its RAG groundedness rubric (a score from
0 to 1 with the judge's reasoning, kept so a reader can see why), through any OpenAI-compatible endpoint.

Configuration: `JudgeSettings` from the environment (NEXA_EVAL_JUDGE_MODEL, NEXA_EVAL_JUDGE_BASE_URL,
NEXA_EVAL_JUDGE_API_KEY, falling back to OPENAI_API_KEY), or from CLI options. Judge errors are not hidden: a
section the judge could not score is reported with the error, and the section counts as unscored.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, computed_field

from nexa_research.evals.report_text import bibliography_by_number, cited_in_sections
from nexa_research.report import Report


class JudgeSettings(BaseModel):
    model: str
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 120.0

    @classmethod
    def from_env(cls, model: str | None = None, base_url: str | None = None) -> JudgeSettings | None:
        """Settings from options, then the environment; None when no judge model is configured."""
        model = model or os.environ.get("NEXA_EVAL_JUDGE_MODEL")
        if not model:
            return None
        return cls(
            model=model,
            base_url=base_url or os.environ.get("NEXA_EVAL_JUDGE_BASE_URL") or None,
            api_key=os.environ.get("NEXA_EVAL_JUDGE_API_KEY") or os.environ.get("OPENAI_API_KEY") or None,
        )

    def label(self) -> str:
        return f"{self.model} @ {self.base_url}" if self.base_url else self.model


class SectionVerdict(BaseModel):
    number: int
    title: str
    score: float | None
    reasoning: str = ""
    error: str = ""


class JudgeResult(BaseModel):
    judge: str
    sections: list[SectionVerdict]

    @computed_field
    @property
    def mean_score(self) -> float | None:
        scores = [s.score for s in self.sections if s.score is not None]
        return sum(scores) / len(scores) if scores else None


def judge_model(settings: JudgeSettings) -> Any:
    """A LangChain chat model for the judge (temperature 0: a verdict should not depend on the draw)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        model=settings.model,
        base_url=settings.base_url,
        api_key=SecretStr(settings.api_key or "not-needed"),
        temperature=0,
        timeout=settings.timeout,
        max_retries=2,
    )


def groundedness_evaluator(chat_model: Any) -> Any:
    """openevals' groundedness judge on `chat_model`, asking for a 0..1 score through a JSON schema."""
    from openevals.llm import create_llm_as_judge
    from openevals.prompts import RAG_GROUNDEDNESS_PROMPT

    return create_llm_as_judge(
        prompt=RAG_GROUNDEDNESS_PROMPT,
        judge=chat_model,
        feedback_key="groundedness",
        continuous=True,
        structured_output_kwargs={"method": "json_schema"},
    )


def _context(report: Report, numbers: list[int]) -> str:
    entries = bibliography_by_number(report)
    blocks = [f"[{n}] {entries[n].title}\n" + "\n".join(entries[n].passages) for n in numbers if n in entries]
    return "\n\n".join(blocks)


def judge_report(report: Report, chat_model: Any, label: str) -> JudgeResult:
    """Judge every written section against the passages it cites."""
    from openai import OpenAIError

    evaluator = groundedness_evaluator(chat_model)
    cited = cited_in_sections(report)
    verdicts = []
    for number, section in enumerate(report.sections, start=1):
        if section.status != "done" or not section.content.strip():
            continue
        try:
            result = evaluator(outputs=section.content, context=_context(report, cited[number]))
        except (OpenAIError, ValueError, KeyError) as exc:
            verdicts.append(SectionVerdict(number=number, title=section.title, score=None, error=f"{type(exc).__name__}: {exc}"))
            continue
        verdicts.append(SectionVerdict(number=number, title=section.title, score=float(result["score"]),
                                       reasoning=str(result.get("comment") or "")))
    return JudgeResult(judge=label, sections=verdicts)
