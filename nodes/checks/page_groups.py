"""The survey's articles in the structure of the pages they come from.

A user's document is cut at its headings ("Index Types › B-Tree"), and the topic survey finds a page and its
subsections by score, scattered among other pages' sections. A page's subsections are the parts its author chose
for that subject, so the planner is shown them together under their page, and a plan built from the corpus takes
them in that order: on "Which index types does PostgreSQL offer and when is each one used?" the plan had been
"Index Types", "Basic API Structure for Indexes", "Examining Index Usage", ... with the six types' own subsections
further down the list. An encyclopedia's titles have no heading path and keep the order they were found in.
"""

from __future__ import annotations

from nexa_research.providers.documents.model import HEADING_SEPARATOR
from nexa_research.state import Source

# A page's subsections are grouped when the survey found at least this many of them.
MIN_GROUP = 2


def _page(title: str) -> str | None:
    return title.rsplit(HEADING_SEPARATOR, 1)[0] if HEADING_SEPARATOR in title else None


def heading_groups(articles: list[Source]) -> list[tuple[str | None, list[Source]]]:
    """The articles in found order, with every subsection of a page ("Index Types › GIN") moved up to follow the
    first article of that page: (page, [its subsections]) for `MIN_GROUP` or more subsections, (None, [article])
    otherwise. A page's own article ("Index Types") comes right before its group, wherever it was found."""
    children: dict[str, list[Source]] = {}
    for a in articles:
        page = _page(a["title"])
        if page is not None:
            children.setdefault(page, []).append(a)
    grouped = {page for page, members in children.items() if len(members) >= MIN_GROUP}
    own = {a["title"]: a for a in articles if a["title"] in grouped}
    out: list[tuple[str | None, list[Source]]] = []
    listed: set[str] = set()
    for a in articles:
        page = a["title"] if a["title"] in grouped else _page(a["title"])
        if page not in grouped:
            out.append((None, [a]))
            continue
        if page in listed:
            continue
        listed.add(page)
        if page in own:
            out.append((None, [own[page]]))
        out.append((page, children[page]))
    return out


def in_page_order(articles: list[Source]) -> list[Source]:
    """`articles` with each page's subsections moved up to follow the first article of that page (see
    `heading_groups`); the same articles, once each."""
    return [a for _, members in heading_groups(articles) for a in members]
