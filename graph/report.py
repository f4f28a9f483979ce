"""The finished report: what `research()` returns, what the server sends, what the CLI writes as Markdown and JSON."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class BibliographyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=1)
    url: str
    title: str
    source_ids: list[str] = Field(default_factory=list, description="Stable ids of the passages cited under this URL.")
    passages: list[str] = Field(
        default_factory=list,
        description="Text of each passage cited under this URL, so a reader (or an evaluator) can check every claim.",
    )


class ResearchRoundRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queries: list[str]
    added: int = Field(description="New on-topic sources the round added to the section.")


class ReportSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    title: str
    content: str = Field(description="Section text with global [n] citations; empty when missing.")
    transition: str = ""
    status: Literal["done", "missing"]
    error: str | None = None
    iterations: int = 0
    queries: list[str] = Field(default_factory=list)
    rounds: list[ResearchRoundRecord] = Field(
        default_factory=list, description="Each query -> search round: its queries and the new sources it added."
    )
    stop_reason: str | None = None
    citation_repairs: int = Field(default=0, description="Citations to sources that do not exist, removed in code.")
    unsupported_removed: int = Field(default=0, description="Sentences no source supports, removed in code.")


class ReportMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str
    thread_id: str | None = None
    created_at: str
    models: dict[str, list[str]] = Field(default_factory=dict, description="Model labels per role, primary first.")
    models_used: dict[str, list[str]] = Field(default_factory=dict, description="Models that actually answered, per role.")
    prompt_versions: dict[str, str] = Field(default_factory=dict)
    iterations: dict[str, int] = Field(default_factory=dict, description="Research rounds per section title.")
    sources_per_round: dict[str, list[int]] = Field(
        default_factory=dict, description="New on-topic sources each research round added, per section title."
    )
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per node, summed over branches.")
    token_usage: dict[str, dict[str, int]] = Field(default_factory=dict, description="input/output tokens per role.")
    config: dict[str, Any] = Field(default_factory=dict)
    cache: dict[str, int] = Field(default_factory=dict, description="Cache hits and misses, when a cache is used.")
    warnings: list[str] = Field(default_factory=list)


class Report(BaseModel):
    """A cited research report. Every [n] in the text has bibliography entry n."""

    model_config = ConfigDict(extra="forbid")

    title: str
    topic: str
    executive_summary: str
    introduction: str
    sections: list[ReportSection]
    conclusion: str
    bibliography: list[BibliographyEntry]
    metadata: ReportMetadata

    @property
    def missing_sections(self) -> list[ReportSection]:
        return [s for s in self.sections if s.status == "missing"]

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, data: str | bytes) -> Report:
        return cls.model_validate_json(data)

    def to_markdown(self) -> str:
        # a part the sources gave no finding for is empty and gets no heading (nodes/text/narrative.py)
        out = [f"# {self.title}", ""]
        out += ["## Executive summary", "", self.executive_summary, ""] if self.executive_summary.strip() else []
        out += ["## Introduction", "", self.introduction, ""] if self.introduction.strip() else []
        for number, section in enumerate(self.sections, start=1):
            out += [f"## {number}. {section.title}", ""]
            if section.status == "missing":
                out += [f"> This section is missing: {section.error or 'no reason recorded'}", ""]
                continue
            if section.transition:
                out += [section.transition, ""]
            out += [section.content, ""]
        out += ["## Conclusion", "", self.conclusion, ""] if self.conclusion.strip() else []
        out += ["## Bibliography", ""]
        # one paragraph per entry: lines joined by a single newline run together in any Markdown viewer (the chat
        # UI showed the whole bibliography as one paragraph)
        for e in self.bibliography:
            out += [f"[{e.number}] {e.title}. {e.url}", ""]
        return "\n".join(out).rstrip() + "\n"
