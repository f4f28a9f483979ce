"""Typed graph state that mirrors the plan JSON users see, with reducers wherever parallel branches write.

TypedDicts come from `typing_extensions` on purpose: LangServe builds pydantic models from them, and on
Python 3.11 it rejects `typing.TypedDict`.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from langgraph.types import Overwrite
from typing_extensions import NotRequired, TypedDict

from nexa_research.errors import ResearchInputError

MAX_TOPIC_CHARS = 2000

ParagraphStatus = Literal["planned", "researching", "writing", "done", "missing"]


class Source(TypedDict):
    """One retrieved passage. `id` is stable: derived from the normalised URL and the text."""

    id: str
    url: str
    title: str
    text: str
    score: float
    published: str | None
    # Which part of its document the passage is, from 0, when the backend knows (the knowledge base stores a long
    # document as several chunks): only part 0 opens the document, and parts print in document order.
    chunk: NotRequired[int]
    # For a passage found because it names the subject (nodes/text/excerpts.py): the sentences that name it. The
    # relevance gate judges the passage by them; the rest of the passage is there to be read, not to be judged.
    focus: NotRequired[str]


class ResearchRound(TypedDict):
    """One query -> search round of a section: the queries it ran and how many new on-topic sources they added."""

    queries: list[str]
    added: int


class Paragraph(TypedDict):
    """One planned section and everything its research branch learned.

    `research` holds the sources in the order they were gathered; the synthesizer numbers them 1..n in that order.
    """

    index: int
    title: str
    outline: str
    questions: list[str]
    research: list[Source]
    queries: list[str]
    latest_summary: str
    iterations: int
    status: ParagraphStatus
    error: str | None
    stop_reason: NotRequired[str | None]
    citation_repairs: NotRequired[int]
    unsupported_removed: NotRequired[int]
    off_topic_dropped: NotRequired[int]
    # Optional features that failed during this section's research (memory, search cache): what was skipped.
    warnings: NotRequired[list[str]]
    rounds: NotRequired[list[ResearchRound]]


class StepRecord(TypedDict):
    """What one node execution cost: wall time, and tokens when it called a model."""

    node: str
    paragraph: int | None
    seconds: float
    role: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cache: NotRequired[str]


def merge_paragraphs(current: list[Paragraph] | None, update: list[Paragraph] | Overwrite) -> list[Paragraph]:
    """Branches return their own paragraph; merge it in by `index` so parallel writes never clobber each other.

    A whole new plan (planner, plan review) is written with `Overwrite`, which bypasses this reducer.
    """
    merged = {p["index"]: p for p in (current or [])}
    for paragraph in update:  # type: ignore[union-attr]
        merged[paragraph["index"]] = {**merged.get(paragraph["index"], {}), **paragraph}  # type: ignore[typeddict-item]
    return [merged[i] for i in sorted(merged)]


def merge_sources(current: list[Source] | None, update: list[Source]) -> list[Source]:
    """Union of sources by stable id, first-gathered order kept."""
    seen = {s["id"] for s in (current or [])}
    out = list(current or [])
    for source in update:
        if source["id"] not in seen:
            seen.add(source["id"])
            out.append(source)
    return out


# The chat a thread holds (agent-chat-ui and other chat clients read it): the human messages that asked for research
# and the short AI messages nodes write as it goes (nodes/chat_messages.py). `add_messages` merges by id, so parallel
# branches append side by side and a node that runs again replaces its own messages instead of repeating them.
Messages = Annotated[list[AnyMessage], add_messages]


class ResearchInput(TypedDict):
    """What a caller sends: the topic, or a chat whose last human message is the topic. Everything else is config."""

    topic: NotRequired[str]
    messages: NotRequired[Messages]


class ResearchState(TypedDict):
    """The whole run: the plan JSON (topic, paragraphs) plus gathered sources, cost records and the final report."""

    topic: str
    title: NotRequired[str]
    config: NotRequired[dict[str, Any]]
    paragraphs: Annotated[list[Paragraph], merge_paragraphs]
    sources: Annotated[list[Source], merge_sources]
    steps: Annotated[list[StepRecord], operator.add]
    report: NotRequired[dict[str, Any] | None]
    # The run's on-topic cut-off, set from the corpus survey: see nodes/checks/relevance.topic_cutoff.
    topic_cut: NotRequired[float | None]
    # What is about the topic's subject, from the same survey: nodes/checks/subject.TopicSubject.as_dict.
    subject: NotRequired[dict[str, list[str]] | None]
    messages: NotRequired[Messages]
    # The id of the human message this research answers: the prefix of the ids of the AI messages it writes.
    ask_id: NotRequired[str | None]
    # Why the reviewer rejected the plan: the run ends after the review, without research (nodes/plan_review.py).
    plan_rejection: NotRequired[str | None]


class BranchInput(TypedDict):
    """What one `Send` carries into a paragraph's research subgraph."""

    topic: str
    paragraph: Paragraph
    topic_cut: NotRequired[float | None]
    subject: NotRequired[dict[str, list[str]] | None]
    ask_id: NotRequired[str | None]
    # what the plan's other sections are about (nodes/checks/relevance.py `section_text`): a branch researches
    # apart, and ranks what another section is about after its own
    others: NotRequired[list[str]]


class Reflection(TypedDict):
    sufficient: bool
    gaps: list[str]
    next_query: str


class BranchState(TypedDict):
    """Working state of one paragraph's research loop."""

    topic: str
    paragraph: Paragraph
    topic_cut: NotRequired[float | None]
    subject: NotRequired[dict[str, list[str]] | None]
    others: NotRequired[list[str]]
    pending_query: NotRequired[str | None]
    # Queries found in code for the next round (unanswered questions, names the sources mention): see
    # nodes/checks/coverage.py. They run beside `pending_query`, the model's own.
    pending_queries: NotRequired[list[str]]
    reflection: NotRequired[Reflection | None]
    paragraphs: list[Paragraph]
    sources: Annotated[list[Source], merge_sources]
    steps: Annotated[list[StepRecord], operator.add]


class BranchOutput(TypedDict):
    """What a branch hands back to the parent graph: its finished paragraph, its sources, its cost records."""

    paragraphs: list[Paragraph]
    sources: list[Source]
    steps: list[StepRecord]


def validate_topic(topic: Any) -> str:
    """Reject an unusable topic before any model is called."""
    if not isinstance(topic, str):
        raise ResearchInputError(f"topic: expected a string, got {type(topic).__name__}")
    cleaned = " ".join(topic.split())
    if not cleaned:
        raise ResearchInputError("topic: must not be empty or whitespace")
    if len(cleaned) > MAX_TOPIC_CHARS:
        raise ResearchInputError(f"topic: {len(cleaned)} characters, the limit is {MAX_TOPIC_CHARS}")
    return cleaned


def stop_research(paragraph: Paragraph, reason: str) -> Paragraph:
    """End a paragraph's research loop: with sources in hand it is still written; with none it is missing."""
    if paragraph["research"]:
        return Paragraph(**{**paragraph, "stop_reason": reason})
    return Paragraph(**{**paragraph, "status": "missing", "error": reason, "stop_reason": reason})


def new_paragraph(index: int, title: str, outline: str, questions: list[str]) -> Paragraph:
    """A planned paragraph with empty research fields, as the planner and plan review produce them."""
    return Paragraph(
        index=index,
        title=title,
        outline=outline,
        questions=list(questions),
        research=[],
        queries=[],
        latest_summary="",
        iterations=0,
        status="planned",
        error=None,
        stop_reason=None,
        citation_repairs=0,
    )
