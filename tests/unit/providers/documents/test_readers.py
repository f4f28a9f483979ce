"""Markdown, PDF and text files as sections: the same units as HTML, headings anchored at their slugs, PDF pages."""

from __future__ import annotations

import pytest

from nexa_research.providers.documents.readers import read_file, read_markdown, read_pdf


def test_markdown_markup_is_not_text_and_headings_are_sections():
    read = read_markdown("---\nlayout: page\n---\nPreface line.\n\n# My Guide\n\nIntro **bold**, `code` and [a link](http://x).\n\n"
                         "## 2.1 Install it\n\n- first item\n- second item\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\npip install x\n```\n")
    assert read.title == "My Guide"
    assert [(s.headings, s.anchor) for s in read.sections] == [((), None), (("My Guide",), "my-guide"), (("My Guide", "Install it"), "install-it")]
    assert read.sections[1].text == "Intro bold, code and a link."
    assert read.sections[2].text.split("\n\n") == ["first item", "second item", "a: 1; b: 2.", "pip install x"]
    assert "layout" not in read.text


def test_pdf_pages_are_sections_anchored_at_their_page(tmp_path):
    from support.documents import minimal_pdf

    path = tmp_path / "c.pdf"
    path.write_bytes(minimal_pdf("Comets are icy bodies that grow glowing tails near the Sun.", "2. About Comets"))
    read = read_pdf(path)
    assert read.title == "About Comets"
    assert [(s.headings, s.anchor, s.text) for s in read.sections] == [
        (("page 1",), "page=1", "Comets are icy bodies that grow glowing tails near the Sun.")]


def test_unsupported_and_broken_files_are_errors_naming_the_reason(tmp_path):
    (tmp_path / "x.png").write_bytes(b"\x89PNG")
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf")
    with pytest.raises(ValueError, match="unsupported file type .png"):
        read_file(tmp_path / "x.png")
    with pytest.raises(Exception, match="(?i)pdf|stream|EOF"):
        read_file(tmp_path / "broken.pdf")
