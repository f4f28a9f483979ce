"""Optional human review of the plan: pause with `interrupt()`, then approve, replace or reject the plan.

The pause's value serves three readers at once, so each client shows it without knowing the others:
- scripts read {"kind": "plan_review", "topic", "title", "paragraphs", "how_to_answer"} (and "error" on a retry);
- agent-chat-ui renders LangChain's human-in-the-loop request, {"action_requests": [{"name", "args",
  "description"}], "review_configs": [{"action_name", "allowed_decisions"}]}, as approve / edit / reject;
- the older Agent Inbox renders {"action_request": {"action", "args"}, "config": {allow_*}, "description"}.
The arguments offered for editing are {"paragraphs": [{title, outline, questions}, ...]}. The answers each
client sends back are read in nodes/review_answers.py. An answer that breaks the rules is not an error that
loses the run: the node asks again with the reason. A rejection ends the run with no research.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from langgraph.types import Overwrite, interrupt

from nexa_research.config import ResearchConfig, ResearchKnobs
from nexa_research.errors import ResearchInputError
from nexa_research.nodes.chat_messages import plan_message, review_message
from nexa_research.nodes.chat_narration import ask_of
from nexa_research.nodes.review_answers import ReviewDecision, parse_review
from nexa_research.state import ResearchState

ACTION_NAME = "research_plan"
HOW_TO_ANSWER = ("resume with 'approve', {'action': 'edit', 'paragraphs': [...]}, or {'action': 'reject', "
                 "'reason': '...'}; chat clients answer with their own approve / edit / reject decisions")


def review_request(state: ResearchState, error: str | None = None) -> dict[str, Any]:
    """The interrupt value: the plan, in the plain shape and in both chat-inbox shapes."""
    paragraphs = [{"title": p["title"], "outline": p["outline"], "questions": p["questions"]} for p in state["paragraphs"]]
    description = (
        f"Review the research plan for {state['topic']!r}: approve it, edit the sections (a JSON list of "
        "{title, outline, questions}), or reject it with a reason to stop here."
    )
    if error:
        description = f"Your last answer was not used: {error}. {description}"
    args = {"paragraphs": paragraphs}
    request: dict[str, Any] = {
        "kind": "plan_review",
        "topic": state["topic"],
        "title": state.get("title", ""),
        "paragraphs": paragraphs,
        "how_to_answer": HOW_TO_ANSWER,
        "action_requests": [{"name": ACTION_NAME, "args": args, "description": description}],
        "review_configs": [{"action_name": ACTION_NAME, "allowed_decisions": ["approve", "edit", "reject"]}],
        "action_request": {"action": ACTION_NAME, "args": args},
        "config": {"allow_ignore": True, "allow_respond": True, "allow_edit": True, "allow_accept": True},
        "description": description,
    }
    if error:
        request["error"] = error
    return request


def _outcome(state: ResearchState, decision: ReviewDecision) -> dict[str, Any]:
    ask = ask_of(state)
    if decision.rejection is not None:
        reason = f": {decision.rejection}" if decision.rejection else ""
        text = f"Plan rejected{reason}. No research was done; send a new topic to plan again."
        return {"plan_rejection": decision.rejection, "messages": [review_message(ask, text)]}
    if decision.plan is None:
        text = f"Plan approved; researching {len(state['paragraphs'])} sections."
        return {"messages": [review_message(ask, text)]}
    # the edited plan replaces the planner's message: the chat shows the plan that is researched
    edited = plan_message(ask, decision.plan)
    return {
        "paragraphs": Overwrite(decision.plan),
        "messages": [edited, review_message(ask, f"Plan edited; researching {len(decision.plan)} sections.")],
    }


def review_plan(state: ResearchState, config: RunnableConfig, runtime: Runtime[ResearchKnobs]) -> dict[str, Any]:
    """Pause for a decision when `review_plan` is on; otherwise pass straight through."""
    cfg = ResearchConfig.from_runnable_config(config, runtime.context)
    if not cfg.review_plan:
        return {}
    request = review_request(state)
    while True:
        answer = interrupt(request)
        try:
            decision = parse_review(answer, cfg)
        except ResearchInputError as exc:
            request = review_request(state, str(exc))
            continue
        return _outcome(state, decision)
