"""Live progress of a research run for the terminal: one row per section (planned, searching k/n, writing, done).

It reads the graph's `updates` stream with subgraphs, so it shows what the graph reports and nothing it guesses.
"""

from __future__ import annotations

from typing import Any

from langgraph.types import Overwrite
from rich.table import Table


class SectionProgress:
    """Folds stream chunks into a status per section and renders them as a rich table."""

    def __init__(self, max_iterations: int) -> None:
        self.max_iterations = max_iterations
        self.title = ""
        self.sections: dict[int, dict[str, Any]] = {}
        self.phase = "planning"
        self.report: dict[str, Any] | None = None
        self.interrupt: Any = None

    def update(self, namespace: tuple[str, ...], chunk: dict[str, Any]) -> None:
        for node, update in chunk.items():
            if node == "__interrupt__":
                self.interrupt = update[0].value if update else None
                continue
            if not isinstance(update, dict):
                continue
            if not namespace:
                self._parent(node, update)
            else:
                self._branch(node, update)

    def _parent(self, node: str, update: dict[str, Any]) -> None:
        paragraphs = update.get("paragraphs")
        if isinstance(paragraphs, Overwrite):
            paragraphs = paragraphs.value
        if node in ("plan", "review_plan") and paragraphs:
            self.title = update.get("title", self.title)
            self.sections = {p["index"]: {"title": p["title"], "status": "planned", "sources": 0} for p in paragraphs}
            self.phase = "researching"
        elif node == "collate":
            self.phase = "done"
            self.report = update.get("report")
        elif node == "research_paragraph" and paragraphs:
            for p in paragraphs:
                self._set(p, "done" if p["status"] == "done" else f"missing: {p.get('error')}")
            if all(s["status"] in ("done",) or s["status"].startswith("missing") for s in self.sections.values()):
                self.phase = "collating"

    def _branch(self, node: str, update: dict[str, Any]) -> None:
        paragraph = update.get("paragraph") or (update.get("paragraphs") or [None])[0]
        if not paragraph:
            return
        step = paragraph.get("iterations", 0)
        if paragraph.get("status") == "missing":
            self._set(paragraph, f"missing: {paragraph.get('error')}")
        elif node in ("generate_query", "reflect") and not paragraph.get("stop_reason"):
            self._set(paragraph, f"searching {max(step, 1)}/{self.max_iterations}")
        elif node in ("search", "reflect", "generate_query"):
            self._set(paragraph, "writing")
        elif node == "synthesize":
            self._set(paragraph, "done")

    def _set(self, paragraph: dict[str, Any], status: str) -> None:
        row = self.sections.setdefault(paragraph["index"], {"title": paragraph.get("title", "?"), "sources": 0})
        row["status"] = status
        row["sources"] = len(paragraph.get("research") or []) or row.get("sources", 0)

    def render(self) -> Table:
        table = Table(title=self.title or "Planning...", caption=f"phase: {self.phase}")
        table.add_column("#", justify="right")
        table.add_column("section")
        table.add_column("status")
        table.add_column("sources", justify="right")
        for index in sorted(self.sections):
            row = self.sections[index]
            table.add_row(str(index + 1), row["title"], row["status"], str(row["sources"]))
        return table
