"""The pages a document links to from its content: how a reader of a manual finds the rest of a subject.

A manual spreads one subject over a chapter of pages, and a search by meaning finds its opening and a few
neighbours: on "How does the write-ahead log protect data?" the PostgreSQL manual's chapter page (wal.html) and
WAL's introduction came first, while the chapter's pages on reliability, asynchronous commit and WAL
configuration, listed in that chapter's table of contents, ranked past the first forty results or not at all. A
reader follows the links; research does too (providers/search/links.py), from the links kept here.

Kept are the links of the main content, a chapter's own table of contents included (the list of the pages it
consists of), and not the page furniture around it (previous/next/up, the site's sidebar): those link every page
to its neighbours in reading order, whatever their subject. A link to the page itself, to another site or to a
mail address is not a lead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import Tag

# A table of contents inside the main content lists the pages a chapter consists of: the best leads a page has.
TOC_CLASSES = frozenset({"toc", "toctree-wrapper"})
# Links kept per page: a chapter of a large manual lists a few dozen pages; an index page lists thousands, and
# is a lead to nothing in particular.
MAX_LINKS = 60
_LOCAL_SCHEMES = frozenset({"", "file"})


def content_links(root: Tag, furniture: Callable[[Tag], bool], classes: Callable[[Tag], set[str]]) -> list[str]:
    """The targets (`href`, as written) of the links under `root`, in document order, once each, leaving out
    links inside furniture (`furniture(tag)`) other than a table of contents, links to a place in the page
    itself ("#top") and links off the folder (another scheme: http, mailto)."""
    out: dict[str, None] = {}
    for anchor in root.find_all("a", href=True):
        href = str(anchor.get("href") or "").strip()
        if not href or href.startswith("#") or urlsplit(href).scheme.lower() not in _LOCAL_SCHEMES:
            continue
        if _inside_furniture(anchor, root, furniture, classes):
            continue
        out.setdefault(href, None)
        if len(out) >= MAX_LINKS:
            break
    return list(out)


def _inside_furniture(anchor: Tag, root: Tag, furniture: Callable[[Tag], bool],
                      classes: Callable[[Tag], set[str]]) -> bool:
    node = anchor.parent
    while isinstance(node, Tag) and node is not root:
        if furniture(node) and not classes(node) & TOC_CLASSES:
            return True
        node = node.parent
    return False


def resolved_links(base_uri: str, hrefs: Sequence[str]) -> list[str]:
    """`hrefs` as absolute URIs of the same kind as `base_uri` (a file's URI), once each, without a link back to
    the page as a whole; an anchor is kept ("runtime-config-wal.html#GUC-WAL-SYNC-METHOD" leads to that setting's
    section), also into the page itself: "Index Types" lists its sections on B-tree, GiST, GIN and BRIN indexes."""
    page = urldefrag(base_uri).url
    out: dict[str, None] = {}
    for href in hrefs:
        uri = urljoin(base_uri, href)
        if urlsplit(uri).scheme.lower() != urlsplit(base_uri).scheme.lower() or uri == page:
            continue
        out.setdefault(uri, None)
    return list(out)
