"""What a reviewer may answer to the plan-review pause, in every shape a client sends, read as one decision.

Three shapes arrive through `Command(resume=...)`:
- this library's own: "approve" / True / {"action": "approve"}; {"action": "edit", "paragraphs": [...]} or a bare
  list of paragraphs; {"action": "reject", "reason": "..."}.
- agent-chat-ui (LangChain's human-in-the-loop schema): {"decisions": [{"type": "approve"}]},
  {"decisions": [{"type": "edit", "edited_action": {"name", "args": {"paragraphs": ...}}}]},
  {"decisions": [{"type": "reject", "message": "..."}]}.
- the older Agent Inbox: [{"type": "accept"}], [{"type": "edit", "args": {"action", "args": {"paragraphs": ...}}}],
  [{"type": "ignore"}], [{"type": "response", "args": "..."}].
A chat UI shows edited arguments as text, so `paragraphs` may come back as a JSON string.

A rejection (reject, ignore, or a free-text response) ends the run without research: the reason is kept in the
thread, and a new message starts a new plan. A response is not taken as instructions to re-plan: the planner works
from the topic, and a refined topic is a new message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError
from nexa_research.nodes.planner import PlannedParagraph
from nexa_research.state import Paragraph, new_paragraph

APPROVALS = {"approve", "approved", "accept", "ok", "yes"}
REJECTIONS = {"reject", "rejected", "ignore", "response"}
DECISION_TYPES = APPROVALS | REJECTIONS | {"edit"}


@dataclass(frozen=True)
class ReviewDecision:
    """Approved as planned (both fields None), an edited plan, or a rejection with its reason ("" when none)."""

    plan: list[Paragraph] | None = None
    rejection: str | None = None


def _is_decision_list(answer: Any) -> bool:
    return (
        isinstance(answer, list) and bool(answer) and isinstance(answer[0], Mapping)
        and str(answer[0].get("type", "")).lower() in DECISION_TYPES and "title" not in answer[0]
    )


def _decision(answer: Any) -> Mapping[str, Any] | None:
    """The first decision of a chat UI's answer, in either schema; None for this library's own shapes."""
    if isinstance(answer, Mapping) and isinstance(answer.get("decisions"), list):
        decisions = answer["decisions"]
        if not decisions or not isinstance(decisions[0], Mapping):
            raise ResearchInputError("decisions: expected a list with one {type: approve | edit | reject}")
        return decisions[0]
    if _is_decision_list(answer):
        return answer[0]
    return None


def _edited_args(decision: Mapping[str, Any]) -> Any:
    action = decision.get("edited_action") or decision.get("args")
    if not isinstance(action, Mapping) or not isinstance(action.get("args"), Mapping):
        raise ResearchInputError("edited_action.args: an edit must carry the edited arguments, {paragraphs: [...]}")
    return action["args"].get("paragraphs")


def _from_decision(decision: Mapping[str, Any], cfg: ResearchConfig) -> ReviewDecision:
    kind = str(decision.get("type", "")).lower()
    if kind in APPROVALS:
        return ReviewDecision()
    if kind == "edit":
        return ReviewDecision(plan=edited_plan(_edited_args(decision), cfg))
    if kind in REJECTIONS:
        reason = decision.get("message") if kind == "reject" else decision.get("args")
        return ReviewDecision(rejection=reason.strip() if isinstance(reason, str) else "")
    raise ResearchInputError(f"type: expected approve, edit or reject, got {kind!r}")


def parse_review(answer: Any, cfg: ResearchConfig) -> ReviewDecision:
    """The reviewer's answer as a decision; a `ResearchInputError` names what is wrong with it."""
    decision = _decision(answer)
    if decision is not None:
        return _from_decision(decision, cfg)
    if answer is True or (isinstance(answer, str) and answer.strip().lower() in APPROVALS):
        return ReviewDecision()
    if isinstance(answer, Mapping):
        action = str(answer.get("action", "edit")).lower()
        if action in APPROVALS:
            return ReviewDecision()
        if action in REJECTIONS:
            reason = answer.get("reason")
            return ReviewDecision(rejection=reason.strip() if isinstance(reason, str) else "")
        if action != "edit":
            raise ResearchInputError(f"action: expected 'approve', 'edit' or 'reject', got {action!r}")
        answer = answer.get("paragraphs")
    elif not isinstance(answer, list):
        raise ResearchInputError("paragraphs: an edited plan must be a list of {title, outline, questions}")
    return ReviewDecision(plan=edited_plan(answer, cfg))


def edited_plan(answer: Any, cfg: ResearchConfig) -> list[Paragraph]:
    """An edited plan, checked like the planner's: section count within bounds, each section's fields valid."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError as exc:
            raise ResearchInputError(f"paragraphs: not valid JSON ({exc.msg} at character {exc.pos})") from exc
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
