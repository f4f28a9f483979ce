"""HTML pages as titled sections of readable text: the main content only, headings as structure.

A documentation page is mostly not its content: a navigation header and footer ("Prev Up Next"), a sidebar with
the whole table of contents, a search form, permalink signs, a local table of contents. Kept as text, that debris
became report sentences ("Prev Up Next Chapter 13 [2].") and headings were glued onto the sentence after them
("Vacuuming Basics PostgreSQL's VACUUM command ..."). Here the page is parsed by BeautifulSoup (lxml), the
boilerplate is removed by what it is (semantic tags, ARIA roles, the class names documentation generators give
it, and blocks that are mostly links), and the main content is walked in order: a heading starts a section (the
heading path and its anchor go with it, never into the text), paragraphs and list items are units of their own,
a definition list entry reads "term: definition", a table row reads "column: value; ...", a code block stays one
unit. bench/documents.md compares this with trafilatura, html2text and the previous parser on two real manuals.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Comment, NavigableString, Tag, XMLParsedAsHTMLWarning

from nexa_research.kernel.sentences import split_sentences
from nexa_research.providers.documents.links import content_links
from nexa_research.providers.documents.model import DocumentSection, ReadDocument
from nexa_research.providers.documents.titles import without_numbering

_DROP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form",
                        "button", "iframe", "select", "input", "label", "object", "embed", "canvas", "img", "map"})
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary", "menu", "menubar",
                         "toolbar"})
# class names and ids that documentation generators (DocBook, Sphinx, MkDocs, Javadoc, Doxygen) and site themes
# give their navigation, tables of contents, permalinks and page furniture
_DROP_CLASSES = frozenset({
    "navheader", "navfooter", "navbar", "navigation", "nav", "sphinxsidebar", "sphinxsidebarwrapper", "related",
    "footer", "header", "breadcrumb", "breadcrumbs", "sidebar", "menu", "mobile-nav", "toc", "toctree-wrapper",
    "headerlink", "skip-link", "skiplink", "pagination", "prev-next", "site-header", "site-footer", "md-header",
    "md-footer", "md-sidebar", "topnav", "subnav", "bottomnav", "copyright", "edit-this-page", "searchbox",
    "version_switcher_placeholder", "language_switcher_placeholder",
    # a back-of-the-book index (DocBook's div.index, Sphinx's genindex): every term of the manual beside the links
    # to its pages, which became sections titled "transaction isolation level, Transaction Isolation, ..."
    "index", "indexdiv", "genindextable", "indextable", "genindex-jumpbox",
})
_ADMONITIONS = frozenset({"note", "tip", "warning", "caution", "important", "admonition", "seealso", "hint",
                          "attention", "danger", "error"})
# where the main content is, most specific first: main, [role=main], article, then these divs
_MAIN_DIVS = (("class", "body"), ("id", "content"), ("id", "main-content"), ("class", "content"), ("class", "document"))
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_INLINE = frozenset({"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
                     "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "tt", "u", "var",
                     "wbr", "acronym", "big", "strike", "ins", "del", "literal"})
_LINK_HEAVY = 0.7  # a list or table whose text is mostly links is navigation (a table of contents, an index)
_ONE_LINK = 0.9  # a line that is one link and little else ("CLUSTER" under "See Also")
_JOINED_ITEMS, _JOINED_WORDS = 8, 40  # a list joined to the sentence introducing it: at most so many items and words
_SPACE = re.compile(r"\s+")


@dataclass
class _Section:
    headings: tuple[str, ...]
    anchor: str | None
    paragraphs: list[str] = field(default_factory=list)


class _Walker:
    """Walks the main content in document order, cutting it into sections at headings."""

    def __init__(self, slug_anchors: bool) -> None:
        self.slug_anchors = slug_anchors
        self.stack: list[tuple[int, str]] = []
        self.sections: list[_Section] = [_Section((), None)]
        self.inline: list[str] = []
        self.inline_links = 0  # characters of the inline run that are link text
        self.inline_link_count = 0

    # output
    def emit(self, text: str) -> None:
        text = _SPACE.sub(" ", text.replace("¶", "")).strip()
        if text:
            self.sections[-1].paragraphs.append(text)

    def flush(self) -> None:
        if self.inline:
            run = "".join(self.inline)
            # a run that is one link or a list of links and nothing else ("CLUSTER" under "See Also")
            share = _LINK_HEAVY if self.inline_link_count >= 2 else _ONE_LINK
            if not self.inline_link_count or self.inline_links < share * len(run.strip()):
                self.emit(run)
            self.inline, self.inline_links, self.inline_link_count = [], 0, 0

    def open_section(self, level: int, title: str, anchor: str | None) -> None:
        self.flush()
        self.stack = [(lvl, t) for lvl, t in self.stack if lvl < level] + [(level, title)]
        self.sections.append(_Section(tuple(t for _, t in self.stack), anchor))

    # the walk
    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.inline.append(str(child))
            elif isinstance(child, Tag):
                self.element(child)

    def element(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            title = without_numbering(_text(tag))
            if title:
                anchor = _heading_anchor(tag) or (heading_slug(title) if self.slug_anchors else None)
                self.open_section(_HEADINGS[name], title, anchor)
        elif name == "br":
            self.inline.append(" ")
        elif name in _INLINE and not _holds_blocks(tag):
            self.inline.append(tag.get_text())
            links = [tag] if name == "a" else tag.find_all("a")
            self.inline_links += sum(len(a.get_text().strip()) for a in links)
            self.inline_link_count += len(links)
        elif name == "pre":
            self.flush()
            code = tag.get_text().strip("\n")
            if code.strip():
                self.sections[-1].paragraphs.append(code)
        elif name in ("ul", "ol"):
            self.flush()
            if not _link_heavy(tag) and not self.join_list(tag):
                for item in tag.find_all("li", recursive=False):
                    self.walk_item(item)
        elif name == "dl":
            self.flush()
            terms = tag.find_all("dt", recursive=False)
            # a list of links is navigation when its terms are links (a table of contents), not its definitions
            # (a list of acronyms whose expansions link elsewhere)
            if not terms or sum(_link_heavy(t) for t in terms) <= len(terms) / 2:
                self.definitions(tag)
        elif name == "table":
            self.flush()
            if tag.find(("table", "p", "div", "pre")) is not None:  # a layout table: its cells are the content
                self.walk(tag)
            elif not _link_heavy(tag):
                for row in _table_rows(tag):
                    self.emit(row)
        elif name in ("p", "div") and not _holds_blocks(tag) and _link_heavy(tag, empty=False, least=1):
            # a line of links: "vacuumdb, Section 20.4.4, Section 25.1.6" under "See Also"
            self.flush()
        else:  # p, div, section, blockquote, ...: a block of its own
            self.flush()
            self.walk(tag)
            self.flush()

    def join_list(self, list_tag: Tag) -> bool:
        """A short list of one-sentence items after a sentence ending in a colon becomes part of that sentence
        ("VACUUM has to process each table for several reasons: to recover disk space ...; to update planner
        statistics ..."): an item alone reads as a claim of its own ("An index has become corrupted"), and the
        sentence introducing it, ending in a colon, is no sentence at all. Longer lists stay units of their own."""
        paragraphs = self.sections[-1].paragraphs
        items = list_tag.find_all("li", recursive=False)
        if not paragraphs or not paragraphs[-1].endswith(":") or not 1 <= len(items) <= _JOINED_ITEMS:
            return False
        texts = []
        for item in items:
            text = _text(item).rstrip(" .;,")  # "an instance of asyncio.Future," is one item, not ",;"
            if (not text or item.find(("ul", "ol", "dl", "table", "pre")) is not None
                    or len(text.split()) > _JOINED_WORDS or len(split_sentences(text)) > 1):
                return False
            texts.append(text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text)
        paragraphs[-1] = f"{paragraphs[-1]} {'; '.join(texts)}."
        return True

    def walk_item(self, item: Tag) -> None:
        """A list item is a unit; its nested lists, code and paragraphs after the first are units of their own."""
        self.walk(item)
        self.flush()

    def definitions(self, dl: Tag) -> None:
        """Each entry as "term: definition". A term with an id (a glossary entry, an API signature) is a section
        of its own, so a citation points at it; its first definition paragraph carries the term."""
        for dt in dl.find_all("dt", recursive=False):
            term = _SPACE.sub(" ", _text(dt)).strip()
            dd = dt.find_next_sibling(("dd", "dt"))
            anchor = dt.get("id") or _child_anchor(dt)
            if anchor and term:
                level = (self.stack[-1][0] if self.stack else 0) + 1
                self.open_section(level, term, str(anchor))
            entry = self.sections[-1]
            start = len(entry.paragraphs)
            if dd is not None and dd.name == "dd":
                self.walk(dd)
                self.flush()
            if term and len(entry.paragraphs) > start:
                entry.paragraphs[start] = f"{term}: {entry.paragraphs[start]}"
            elif term and not anchor:
                entry.paragraphs.append(term)
            if anchor and term:  # what follows the entry belongs to the section it was in
                self.stack.pop()
                self.sections.append(_Section(tuple(t for _, t in self.stack), self._parent_anchor()))

    def _parent_anchor(self) -> str | None:
        for section in reversed(self.sections):
            if section.headings == tuple(t for _, t in self.stack):
                return section.anchor
        return None


_BLOCK_NAMES = ["p", "div", "ul", "ol", "dl", "table", "pre", "blockquote", "section", *_HEADINGS]
_BLOCK_SET = frozenset(_BLOCK_NAMES)


def _holds_blocks(tag: Tag) -> bool:
    """Whether an inline element wraps block content (broken HTML): then it is walked, not read as one run."""
    return any(isinstance(d, Tag) and d.name in _BLOCK_SET for d in tag.descendants)


def _text(tag: Tag) -> str:
    return _SPACE.sub(" ", tag.get_text().replace("¶", "")).strip()


def _classes(tag: Tag) -> set[str]:
    """The element's class names and its id, lower-cased (class attributes are parsed as plain strings)."""
    value = tag.get("class")
    names: set[str] = set(value if isinstance(value, list) else str(value or "").split())
    ident = tag.get("id")
    if isinstance(ident, str):
        names.add(ident)
    return {n.lower() for n in names}


def _is_boilerplate(tag: Tag) -> bool:
    if tag.name in _DROP_TAGS:
        return True
    role = tag.get("role")
    return (isinstance(role, str) and role.lower() in _DROP_ROLES) or bool(_classes(tag) & _DROP_CLASSES)


def _link_heavy(tag: Tag, *, empty: bool = True, least: int = 2) -> bool:
    """Mostly links (at least `least` of them): a table of contents, an index, a "See also" line. `empty`: what an
    element without text counts as."""
    text = len(_text(tag))
    if text == 0:
        return empty
    links = tag.find_all("a")
    share = _LINK_HEAVY if len(links) >= 2 else _ONE_LINK
    return len(links) >= least and sum(len(_text(a)) for a in links) >= share * text


def _child_anchor(tag: Tag) -> str | None:
    for a in tag.find_all(("a", "span"), limit=3):
        ident = a.get("id") or a.get("name")
        if isinstance(ident, str) and ident:
            return ident
    return None


def _heading_anchor(heading: Tag) -> str | None:
    """The heading's id, an anchor inside it, or the id of the section element it heads (DocBook's
    `div.sect2#VACUUM-FOR-SPACE-RECOVERY`, Sphinx's `section#task-groups`)."""
    own = heading.get("id")
    if isinstance(own, str) and own:
        return own
    inner = _child_anchor(heading)
    if inner:
        return inner
    for parent in heading.parents:
        if parent.name in ("body", "html", "[document]"):
            break
        ident = parent.get("id")
        if isinstance(ident, str) and ident and parent.find(list(_HEADINGS)) is heading:
            return ident
    return None


def _table_rows(table: Tag) -> list[str]:
    rows = table.find_all("tr")
    cells = [[_text(c) for c in row.find_all(("th", "td"), recursive=False)] for row in rows]
    header: list[str] = []
    if rows and all(c.name == "th" for c in rows[0].find_all(("th", "td"), recursive=False)):
        header, cells = cells[0], cells[1:]
    out = []
    for row in cells:
        if not any(row):
            continue
        if header and len(header) == len(row):
            out.append("; ".join(f"{h}: {v}" if h else v for h, v in zip(header, row, strict=True) if v) + ".")
        else:
            out.append(" — ".join(v for v in row if v))
    return out


def _main_content(soup: BeautifulSoup) -> Tag:
    """The first element of the most specific kind in `_MAIN_DIVS` with some text, found in one pass over the
    page (a CSS query per kind scanned a whole DocBook page eight times for nothing), else the body."""
    found: dict[int, Tag] = {}
    for tag in soup.find_all(True):
        rank = _main_rank(tag)
        if rank is not None and rank not in found:
            found[rank] = tag
    for rank in sorted(found):
        if len(_text(found[rank])) >= 200:
            return found[rank]
    return soup.body or soup


def _main_rank(tag: Tag) -> int | None:
    """Where the element stands in `_MAIN_DIVS` (main, [role=main], article, div.body, div#content, ...)."""
    if tag.name == "main":
        return 0
    if tag.get("role") == "main":
        return 1
    if tag.name == "article":
        return 2
    if tag.name == "div":
        classes = str(tag.get("class") or "").split()
        ident = tag.get("id")
        for rank, (kind, value) in enumerate(_MAIN_DIVS, start=3):
            if (kind == "class" and value in classes) or (kind == "id" and ident == value):
                return rank
    return None


def _drop_furniture(node: Tag) -> None:
    """Remove the boilerplate under `node`, top down (nothing under a removed element is looked at), and the
    labels of admonitions ("Note", "Tip", "See also": a label, not a heading)."""
    for child in [c for c in node.children if isinstance(c, Tag)]:
        if _is_boilerplate(child):
            child.decompose()
            continue
        if _classes(child) & _ADMONITIONS:
            label = child.find(list(_HEADINGS)) or child.find(class_=("title", "admonition-title"))
            if label is not None and len(_text(label).split()) <= 3:
                label.decompose()
        _drop_furniture(child)


def _parent_title(soup: BeautifulSoup) -> str | None:
    """The title of the part the page belongs to: `<link rel="up" title=...>`, or the title of the navigation's
    "Up" link (DocBook: `<a accesskey="u" title="Chapter 67. B-Tree Indexes">`); numbering removed."""
    for found in (soup.find("link", rel="up"), soup.find("a", rel="up"), soup.find("a", accesskey="u")):
        title = found.get("title") if found is not None else None
        if isinstance(title, str) and title.strip():
            return without_numbering(title)
    return None


def heading_slug(title: str) -> str:
    """The anchor GitHub and most Markdown renderers give a heading: lower case, punctuation dropped, spaces to
    hyphens ("Recovering Disk Space" -> "recovering-disk-space")."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def read_html(markup: str, *, slug_anchors: bool = False) -> ReadDocument:
    """The page's title (<title>, else its first heading; numbering removed) and its sections of main content.

    `slug_anchors`: a heading without an id is anchored at its slug (`heading_slug`), as rendered Markdown is."""
    with warnings.catch_warnings():  # XHTML pages (DocBook's) are HTML to a reader; the HTML parser is right
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        # class attributes kept as plain strings: splitting every element's was a third of the parse
        soup = BeautifulSoup(markup, "lxml", multi_valued_attributes=None)
    raw_title = soup.title.get_text() if soup.title else ""
    parent = _parent_title(soup)
    first_heading = soup.find(list(_HEADINGS))
    root = _main_content(soup)
    links = content_links(root, _is_boilerplate, _classes)  # before the furniture goes: a chapter's own contents
    _drop_furniture(root)
    walker = _Walker(slug_anchors)
    walker.walk(root)
    walker.flush()
    title = without_numbering(" ".join(raw_title.split())) or (_text(first_heading) if first_heading else "")
    sections = [
        DocumentSection(s.headings, s.anchor, "\n\n".join(s.paragraphs))
        for s in walker.sections if s.paragraphs
    ]
    return ReadDocument(without_numbering(title), sections, parent, links)
