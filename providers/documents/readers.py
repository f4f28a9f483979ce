"""One reader per file type, all returning a `ReadDocument` (title and sections with heading paths and anchors).

- HTML: documents/html_reader.py (main content, headings as structure).
- Markdown: rendered to HTML by markdown-it-py (CommonMark, with tables) and read as HTML, so lists, tables and
  code blocks become the same units; headings are anchored at their GitHub-style slug.
- PDF: pypdf, one section per page anchored `page=N` (the fragment PDF viewers open a page at), so a citation
  names the page.
- Text: one section.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from markdown_it import MarkdownIt
from pypdf import PdfReader

from nexa_research.providers.documents.html_reader import read_html
from nexa_research.providers.documents.model import DocumentSection, ReadDocument
from nexa_research.providers.documents.titles import without_numbering

TEXT_SUFFIXES = frozenset({".txt", ".text", ".rst"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
PDF_SUFFIXES = frozenset({".pdf"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)
_markdown = MarkdownIt("commonmark").enable("table")


def read_markdown(text: str) -> ReadDocument:
    """A Markdown document; its title is its first heading (YAML front matter is not text)."""
    return read_html(_markdown.render(_FRONT_MATTER.sub("", text)), slug_anchors=True)


def read_pdf(path: Path) -> ReadDocument:
    """Every page with text as a section. pypdf reports some malformed files with plain lookup/type errors; those
    become a ValueError so one broken PDF is skipped like any other unreadable file instead of ending the ingest."""
    try:
        reader = PdfReader(path)
        pages = [(n, (page.extract_text() or "").strip()) for n, page in enumerate(reader.pages, start=1)]
        title = reader.metadata.title if reader.metadata and reader.metadata.title else None
    except (KeyError, IndexError, TypeError, AttributeError, zlib.error) as exc:
        raise ValueError(f"malformed PDF ({type(exc).__name__}: {exc})") from exc
    sections = [DocumentSection((f"page {n}",), f"page={n}", _pdf_paragraphs(text)) for n, text in pages if text]
    return ReadDocument(without_numbering(str(title or "")), sections)


def _pdf_paragraphs(text: str) -> str:
    """Lines of a PDF page joined into paragraphs: a line break inside a sentence is a space, a hyphen at a line's
    end joins the word, an empty line ends a paragraph."""
    return _paragraphs(re.sub(r"(\w)-\n(\w)", r"\1\2", text))


def _paragraphs(text: str) -> str:
    """Blank-line separated paragraphs, each on one line with its spaces collapsed."""
    paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def read_text(text: str) -> ReadDocument:
    return ReadDocument("", [DocumentSection((), None, _paragraphs(text))])


def read_file(path: Path) -> ReadDocument:
    """One file by its suffix. Raises ValueError (unsupported type), OSError, UnicodeDecodeError or PyPdfError."""
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return read_html(path.read_text(encoding="utf-8-sig"))
    if suffix in MARKDOWN_SUFFIXES:
        return read_markdown(path.read_text(encoding="utf-8-sig"))
    if suffix in PDF_SUFFIXES:
        return read_pdf(path)
    if suffix in TEXT_SUFFIXES:
        return read_text(path.read_text(encoding="utf-8-sig"))
    raise ValueError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
