"""Titles without a manual's numbering and without the site name every page repeats."""

from __future__ import annotations

import pytest

from nexa_research.providers.documents.titles import clean_title, shared_suffix, without_numbering


@pytest.mark.parametrize(("title", "expected"), [
    ("25.1. Routine Vacuuming", "Routine Vacuuming"),
    ("25.1.2 Recovering Disk Space", "Recovering Disk Space"),
    ("13. Introduction", "Introduction"),
    ("F.1. amcheck", "amcheck"),
    ("Chapter 13. Concurrency Control", "Concurrency Control"),
    ("Part III. Server Administration", "Server Administration"),
    ("Appendix F. Additional Supplied Modules", "Additional Supplied Modules"),
    ("§ 2.1 Scope", "Scope"),
    # not numbering: a year, a title that is a number, initials, words after a label word
    ("1984", "1984"),
    ("2001 A Space Odyssey", "2001 A Space Odyssey"),
    ("J. R. R. Tolkien", "J. R. R. Tolkien"),
    ("Unit Test Basics", "Unit Test Basics"),
    ("A Tour of the Library", "A Tour of the Library"),
    ("VACUUM", "VACUUM"),
])
def test_numbering_is_removed_and_nothing_else(title, expected):
    assert without_numbering(title) == expected


def test_the_suffix_most_pages_share_is_the_site_name():
    titles = [f"page{n} — Toolkit 2.1 documentation" for n in range(4)] + ["Search", "asyncio — Asynchronous I/O — Toolkit 2.1 documentation"]
    suffix = shared_suffix(titles)
    assert suffix == " — Toolkit 2.1 documentation"
    assert clean_title("asyncio — Asynchronous I/O — Toolkit 2.1 documentation", suffix) == "asyncio — Asynchronous I/O"
    assert clean_title("12.3. Locks — Toolkit 2.1 documentation", suffix) == "Locks"


def test_no_shared_suffix_on_few_or_varied_titles():
    assert shared_suffix(["a — X", "b — X"]) is None  # fewer than three pages
    assert shared_suffix(["a — X", "b — Y", "c — Z", "d — W"]) is None
    assert shared_suffix(["Routine Vacuuming", "Glossary", "Locks"]) is None


def test_a_title_naming_only_a_part_is_placed_under_its_parent():
    from nexa_research.providers.documents.titles import contextless, placed_title

    assert contextless("Introduction") and contextless("Examples and Tips") and not contextless("GIN Tips and Tricks")
    assert placed_title("Introduction", "B-Tree Indexes") == "B-Tree Indexes › Introduction"
    assert placed_title("Routine Vacuuming", "Routine Database Maintenance Tasks") == "Routine Vacuuming"
    assert placed_title("Implementation", None) == "Implementation"


@pytest.mark.parametrize(("title", "expected"), [
    ("class asyncio.Task(coro, *, loop=None, name=None)", "asyncio.Task"),
    ("exception asyncio.InvalidStateError(msg)", "asyncio.InvalidStateError"),
    ("asyncio.run_coroutine_threadsafe(coro, loop)", "asyncio.run_coroutine_threadsafe()"),
    ("uncancel()", "uncancel()"),
    ("Introspection: asyncio.all_tasks(loop=None)", "Introspection: asyncio.all_tasks()"),
    ("min_wal_size (integer)", "min_wal_size (integer)"),  # a setting and its type, not a call
    ("Continuous Archiving and Point-in-Time Recovery (PITR)", "Continuous Archiving and Point-in-Time Recovery (PITR)"),
])
def test_a_signature_heading_gives_its_name(title, expected):
    from nexa_research.providers.documents.titles import signature_name

    assert signature_name(title) == expected


def test_a_section_made_from_an_api_entry_is_titled_by_its_name():
    from nexa_research.nodes.checks.plan import section_title

    assert section_title("Coroutines and Tasks › Task Object › class asyncio.Task(coro, *, loop=None)") == "asyncio.Task"
    assert section_title("asyncio.run_coroutine_threadsafe(coro, loop)") == "asyncio.run_coroutine_threadsafe()"
