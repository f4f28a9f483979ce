"""Which files of a folder are read (types, patterns, hidden tooling) and which are near-identical copies."""

from __future__ import annotations

from pathlib import Path

from nexa_research.providers.documents.duplicates import Candidate, duplicates, near_identical
from nexa_research.providers.documents.folder import matches, scan_folder

PAGE = ("Task groups combine a task creation interface with a reliable way to wait for all tasks in the group to "
        "finish. A group is an asynchronous context manager holding its tasks; leaving it awaits every one of them.")


def make_tree(root: Path) -> None:
    for rel, text in {
        "index.html": "<p>home</p>", "library/tasks.html": f"<p>{PAGE}</p>", "_sources/library/tasks.rst.txt": PAGE,
        "_static/style.css": "p{}", "_static/app.js": "x()", "_static/logo.svg": "<svg/>", "notes/draft.md": "# Draft",
        ".git/config": "[core]", ".hidden.md": "# no",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_other_types_are_counted_not_listed_and_hidden_entries_are_left_out(tmp_path):
    make_tree(tmp_path)
    scan = scan_folder(tmp_path)
    assert [scan.relative(f) for f in scan.files] == [
        "index.html", "_sources/library/tasks.rst.txt", "library/tasks.html", "notes/draft.md"]
    assert dict(scan.other_types) == {".css": 1, ".js": 1, ".svg": 1}
    assert scan.hidden == 2
    assert scan.skipped_summary() == "1 .css, 1 .js, 1 .svg, 2 hidden"


def test_include_and_exclude_patterns(tmp_path):
    make_tree(tmp_path)
    excluded = scan_folder(tmp_path, exclude=["_sources/**"])
    assert "_sources/library/tasks.rst.txt" not in [excluded.relative(f) for f in excluded.files]
    assert excluded.excluded == 1
    only = scan_folder(tmp_path, include=["library/**", "*.md"], exclude=["notes/*"])
    assert [only.relative(f) for f in only.files] == ["library/tasks.html"]
    assert matches("a/b/c.txt", ["**/c.txt"]) and matches("c.txt", ["**/c.txt"]) and matches("x/y.md", ["*.md"])
    assert not matches("library/tasks.html", ["_sources/**"])


def test_a_page_and_its_source_copy_are_one_document_the_html_kept():
    html, txt = Path("library/tasks.html"), Path("_sources/library/tasks.rst.txt")
    found = duplicates([Candidate(txt, f"{PAGE}\n\n.. note:: x"), Candidate(html, PAGE), Candidate(Path("other.html"), "Unrelated text about glaciers and ice.")])
    assert found == {txt: html}


def test_a_stored_copy_is_kept_and_different_pages_with_one_name_are_not_copies():
    stored, new = Path("a/tasks.txt"), Path("b/tasks.html")
    assert duplicates([Candidate(new, PAGE), Candidate(stored, PAGE, stored=True)]) == {new: stored}
    assert duplicates([Candidate(Path("a/index.html"), "Glaciers carve valleys over thousands of years of slow flow."),
                       Candidate(Path("b/index.html"), PAGE)]) == {}
    assert near_identical(PAGE, PAGE.replace("reliable", "dependable"))
