"""What a document reader returns: a page title and its sections, each with the heading path above it and an
anchor a citation can point at, so a report cites "Routine Vacuuming › Recovering Disk Space" at
`routine-vacuuming.html#VACUUM-FOR-SPACE-RECOVERY` rather than a twenty-screen page."""

from __future__ import annotations

from dataclasses import dataclass, field

HEADING_SEPARATOR = " › "
# The reading rules' version, part of the hash a stored file is known by (kb/file_ingest.py): a change to what the
# readers make of a file (a list joined to its introduction, a new kind of navigation) must reach files already
# stored, which an unchanged file's bytes alone would skip. Raise it with any such change.
READER_VERSION = "2026-12-07.3"


@dataclass(frozen=True)
class DocumentSection:
    """One stretch of a document under one heading: its text as paragraphs separated by blank lines."""

    headings: tuple[str, ...]  # the heading path below the page title, outermost first (may be empty)
    anchor: str | None  # a fragment id of the page (an HTML id, a Markdown heading slug, "page=3" of a PDF)
    text: str

    def title(self, page_title: str) -> str:
        """The page title followed by the headings that say something beyond it (a heading repeating a part of
        the page title is left out: "B-Tree Indexes › Introduction", not "... › Introduction › Introduction")."""
        known = {part.casefold() for part in page_title.split(HEADING_SEPARATOR)}
        parts = [page_title, *(h for h in self.headings if h and h.casefold() not in known)]
        return HEADING_SEPARATOR.join(dict.fromkeys(parts))


@dataclass
class ReadDocument:
    """A document as its reader understood it."""

    title: str
    sections: list[DocumentSection] = field(default_factory=list)
    parent: str | None = None  # the title of the part it belongs to, when the document names one (HTML "up" link)
    links: list[str] = field(default_factory=list)  # the content's links to other pages, as written (documents/links.py)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)
