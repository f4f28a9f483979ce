"""How state is rendered into prompt text: key questions, tried queries, and numbered sources within a token budget."""

from __future__ import annotations

from collections.abc import Sequence

from nexa_research.state import Paragraph, Source

CHARS_PER_TOKEN = 4  # a conservative average for English prose; budgets are approximate by design


def bullet_list(items: Sequence[str], empty: str = "(none)") -> str:
    return "\n".join(f"- {item}" for item in items) if items else empty


def paragraph_fields(paragraph: Paragraph) -> dict[str, str]:
    return {
        "title": paragraph["title"],
        "outline": paragraph["outline"],
        "questions": bullet_list(paragraph["questions"]),
        "previous_queries": bullet_list(paragraph["queries"]),
    }


def numbered_sources(sources: Sequence[Source], token_budget: int, per_source_chars: int = 1200) -> tuple[str, list[Source]]:
    """`[n] title (url)\\ntext` blocks numbered from 1, cut to fit `token_budget`.

    Returns the text and the sources actually shown, so numbers map to exactly what the model saw.
    """
    budget = token_budget * CHARS_PER_TOKEN
    blocks: list[str] = []
    shown: list[Source] = []
    used = 0
    for source in sources:
        text = source["text"][:per_source_chars]
        block = f"[{len(shown) + 1}] {source['title']} ({source['url']})\n{text}"
        if shown and used + len(block) > budget:
            break
        if not shown and len(block) > budget:
            block = block[:budget]
        blocks.append(block)
        shown.append(source)
        used += len(block) + 2
    return "\n\n".join(blocks), shown
