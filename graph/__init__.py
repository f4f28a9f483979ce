"""nexa_research: a deep-research agent on LangGraph that turns a topic into a cited, checkable report.

    from nexa_research import research
    report = research("The history of the printing press")
    print(report.to_markdown())
"""

from nexa_research.api import PlanReviewPending, aresearch, aresume, research
from nexa_research.builder import build_graph, build_research_subgraph
from nexa_research.config import ResearchConfig, RoleModel
from nexa_research.errors import (
    NexaError,
    PlanningError,
    ProviderError,
    ResearchInputError,
    SearchBackendError,
)
from nexa_research.report import Report

__all__ = [
    "NexaError",
    "PlanReviewPending",
    "PlanningError",
    "ProviderError",
    "Report",
    "ResearchConfig",
    "ResearchInputError",
    "RoleModel",
    "SearchBackendError",
    "aresearch",
    "aresume",
    "build_graph",
    "build_research_subgraph",
    "research",
]
