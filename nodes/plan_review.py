"""Optional human review of the plan: pause with `interrupt()`, then approve or replace the plan.

Resume with `Command(resume=...)` where the value is "approve" / True / {"action": "approve"}, or an edited plan:
{"action": "edit", "paragraphs": [{title, outline, questions}, ...]} (a bare list of paragraphs also works).
An edit that breaks the rules is not an error that loses the run: the node asks again with the reason.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from langgraph.types import Overwrite, interrupt
from pydantic import ValidationError

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import ResearchInputError
from nexa_research.nodes.planner import PlannedParagraph
from nexa_research.state import Paragraph, ResearchState, new_paragraph

APPROVALS = {"approve", "approved", "ok", "yes"}


def parse_review(answer: Any, cfg: ResearchConfig) -> list[Paragraph] | None:
    """None for approval, else the edited plan; a `ResearchInputError` names what is wrong with an edit."""
    if answer is True or (isinstance(answer, str) and answer.strip().lower() in APPROVALS):
        return None
    if isinstance(answer, dict):
        action = str(answer.get("action", "edit")).lower()
        if action in APPROVALS:
            return None
        if action != "edit":
            raise ResearchInputError(f"action: expected 'approve' or 'edit', got {action!r}")
        answer = answer.get("paragraphs")
    if not isinstance(answer, list):
        raise ResearchInputError("paragraphs: an edited plan must be a list of {title, outline, questions}")
    if not cfg.min_sections <= len(answer) <= cfg.max_sections:
        raise ResearchInputError(
            f"paragraphs: {len(answer)} sections; the plan must have between {cfg.min_sections} and {cfg.max_sections}"
        )
    edited: list[Paragraph] = []
    for i, item in enumerate(answer):
        try:
            p = PlannedParagraph.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(x) for x in first["loc"])
            raise ResearchInputError(f"paragraphs[{i}].{field}: {first['msg']}") from exc
        edited.append(new_paragraph(i, p.title, p.outline, p.questions))
    return edited


def review_plan(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
    """Pause for approval when `review_plan` is on; otherwise pass straight through."""
    cfg = ResearchConfig.from_runnable_config(config, runtime.context)
    if not cfg.review_plan:
        return {}
    request: dict[str, Any] = {
        "kind": "plan_review",
        "topic": state["topic"],
        "title": state.get("title", ""),
        "paragraphs": [{"title": p["title"], "outline": p["outline"], "questions": p["questions"]} for p in state["paragraphs"]],
        "how_to_answer": "resume with 'approve', or {'action': 'edit', 'paragraphs': [...]}",
    }
    while True:
        answer = interrupt(request)
        try:
            edited = parse_review(answer, cfg)
        except ResearchInputError as exc:
            request = {**request, "error": str(exc)}
            continue
        return {} if edited is None else {"paragraphs": Overwrite(edited)}
