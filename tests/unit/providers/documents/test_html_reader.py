"""HTML pages as a reader sees them: main content only, headings as structure with their anchors, lists, definition
lists and tables as readable units. The pages are small hand-written pages in the shapes documentation generators
produce (DocBook's navigation tables and `div.sect2` sections, Sphinx's sidebar, `section` ids and permalinks)."""

from __future__ import annotations

from nexa_research.providers.documents.html_reader import heading_slug, read_html

DOCBOOK_PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>24.1. Routine Cleaning</title></head><body>
<div class="navheader"><table summary="Navigation header"><tr><th>24.1. Routine Cleaning</th></tr>
<tr><td><a accesskey="p" href="a.html">Prev</a></td><td><a accesskey="u" href="b.html">Up</a></td>
<th>Chapter 24. Maintenance</th><td><a accesskey="n" href="c.html">Next</a></td></tr></table><hr/></div>
<div class="sect1" id="ROUTINE-CLEANING"><div class="titlepage"><h2 class="title">24.1. Routine Cleaning</h2></div>
<div class="toc"><dl class="toc"><dt><a href="#CLEAN-BASICS">24.1.1. Cleaning Basics</a></dt>
<dt><a href="#CLEAN-SPACE">24.1.2. Recovering Space</a></dt></dl></div>
<p>Tables need periodic <em>cleaning</em> to stay fast.</p>
<div class="sect2" id="CLEAN-BASICS"><div class="titlepage"><h3 class="title">24.1.1. Cleaning Basics</h3></div>
<p>The <code>CLEAN</code> command has to process each table for several reasons:</p>
<ol><li>To recover disk space held by deleted rows.</li><li>To update planner statistics.</li></ol>
<div class="tip"><h3 class="title">Tip</h3><p>Run it at night when the load is low.</p></div>
</div>
<div class="sect2" id="CLEAN-SPACE"><div class="titlepage"><h3 class="title">24.1.2. Recovering Space</h3></div>
<p>An update leaves the old row version behind until cleaning removes it.</p>
<table><tr><th>Mode</th><th>Effect</th></tr><tr><td>standard</td><td>marks space reusable</td></tr>
<tr><td>full</td><td>rewrites the table</td></tr></table>
<pre>CLEAN FULL orders;</pre>
</div></div>
<div class="navfooter"><table summary="Navigation footer"><tr><td><a href="a.html">Prev</a></td>
<td><a href="b.html">Up</a></td><td><a href="c.html">Next</a></td></tr></table></div></body></html>"""

SPHINX_PAGE = """<html><head><title>tasks — Running Things — Toolkit 2.1 documentation</title></head><body>
<nav class="menu" role="navigation"><ul><li><a href="../index.html">Home</a></li><li><a href="x.html">Other</a></li></ul></nav>
<div class="sphinxsidebar" role="navigation"><h3>Table of Contents</h3><ul><li><a href="#">tasks</a></li>
<li><a href="#groups">Groups</a></li></ul></div>
<div class="document"><div class="body" role="main">
<section id="tasks-running-things"><h1>tasks — Running Things<a class="headerlink" href="#tasks-running-things">¶</a></h1>
<p>This module runs units of work and collects their results for the caller.</p>
<nav class="contents local"><ul><li><a href="#groups">Groups</a></li><li><a href="#glossary">Glossary</a></li></ul></nav>
<section id="groups"><span id="group"></span><h2><a class="toc-backref" href="#id1" role="doc-backlink">Groups</a><a class="headerlink" href="#groups">¶</a></h2>
<p>A group waits for all of its tasks before it returns.</p>
<div class="admonition note"><p class="admonition-title">Note</p><p>Groups nest.</p></div>
<dl class="py class"><dt class="sig" id="tasks.Group"><em>class</em> tasks.Group<a class="headerlink" href="#tasks.Group">¶</a></dt>
<dd><p>Holds tasks until they finish.</p></dd></dl>
<p>Groups were added in version 2.0.</p>
</section>
<section id="glossary"><h2>Glossary</h2>
<dl class="glossary"><dt id="term-unit">unit</dt><dd><p>One piece of work the scheduler runs.</p></dd>
<dt id="term-result">result</dt><dd><p>What a unit returns.</p></dd></dl>
</section></section></div></div>
<div class="footer">© Copyright 2026. Created using Sphinx.</div></body></html>"""


def sections_by_anchor(markup: str) -> dict[str | None, tuple[tuple[str, ...], str]]:
    """Sections by anchor, the text of sections sharing one joined in order (as the ingest stores them)."""
    found: dict[str | None, tuple[tuple[str, ...], str]] = {}
    for s in read_html(markup).sections:
        headings, text = found.get(s.anchor, (s.headings, ""))
        found[s.anchor] = (headings, f"{text}\n\n{s.text}" if text else s.text)
    return found


def test_navigation_and_tables_of_contents_are_not_text():
    read = read_html(DOCBOOK_PAGE)
    text = read.text
    for debris in ("Prev", "Next", "Up", "Chapter 24", "Recovering Space\n", "24.1"):
        assert debris not in text, debris
    assert "Tables need periodic cleaning to stay fast." in text


def test_headings_are_structure_with_their_anchors_and_without_numbering():
    read = read_html(DOCBOOK_PAGE)
    assert read.title == "Routine Cleaning"
    found = sections_by_anchor(DOCBOOK_PAGE)
    assert found["CLEAN-BASICS"][0] == ("Routine Cleaning", "Cleaning Basics")
    assert found["CLEAN-SPACE"][0] == ("Routine Cleaning", "Recovering Space")
    basics = found["CLEAN-BASICS"][1]
    # no heading glued to the sentence after it, the admonition's label dropped, its text kept
    assert basics.startswith("The CLEAN command has to process each table")
    assert "Tip" not in basics and "Run it at night when the load is low." in basics
    assert [s.title(read.title) for s in read.sections] == [
        "Routine Cleaning", "Routine Cleaning › Cleaning Basics", "Routine Cleaning › Recovering Space"]


def test_lists_tables_and_code_are_units_of_their_own():
    basics = sections_by_anchor(DOCBOOK_PAGE)["CLEAN-BASICS"][1].split("\n\n")
    # a short list joins the sentence that introduces it: an item alone would read as a claim of its own
    assert basics[0] == ("The CLEAN command has to process each table for several reasons: to recover disk space "
                         "held by deleted rows; to update planner statistics.")
    space = sections_by_anchor(DOCBOOK_PAGE)["CLEAN-SPACE"][1].split("\n\n")
    assert "Mode: standard; Effect: marks space reusable." in space
    assert "Mode: full; Effect: rewrites the table." in space
    assert "CLEAN FULL orders;" in space


def test_sphinx_sidebars_permalinks_and_footers_are_dropped():
    read = read_html(SPHINX_PAGE)
    text = read.text
    for debris in ("¶", "Table of Contents", "Home", "Copyright", "Note\n"):
        assert debris not in text, debris
    found = sections_by_anchor(SPHINX_PAGE)
    assert found["groups"] == (("tasks — Running Things", "Groups"), "A group waits for all of its tasks before it "
                               "returns.\n\nGroups nest.\n\nGroups were added in version 2.0.")


def test_definition_entries_read_term_colon_definition_and_anchored_terms_are_sections():
    found = sections_by_anchor(SPHINX_PAGE)
    assert found["term-unit"] == (("tasks — Running Things", "Glossary", "unit"), "unit: One piece of work the scheduler runs.")
    assert found["term-result"][1] == "result: What a unit returns."
    assert found["tasks.Group"] == (("tasks — Running Things", "Groups", "class tasks.Group"),
                                    "class tasks.Group: Holds tasks until they finish.")
    # what follows a definition list belongs to the section the list was in, not to the last term
    assert "Groups were added in version 2.0." in found["groups"][1]


def test_a_page_that_is_only_links_has_no_text():
    index = "<html><body><h1>Index</h1><ul>" + "".join(f"<li><a href='p{n}.html'>Page {n}</a></li>" for n in range(30)) + "</ul></body></html>"
    assert read_html(index).text == ""


def test_headings_without_ids_get_slug_anchors_when_asked():
    read = read_html("<h1>My Guide</h1><p>Intro text here.</p><h2>Install it, now!</h2><p>Run the installer.</p>", slug_anchors=True)
    assert [s.anchor for s in read.sections] == ["my-guide", "install-it-now"]
    assert heading_slug("Recovering Disk Space") == "recovering-disk-space"


def test_a_page_titled_by_a_part_names_its_parent_and_link_lines_are_dropped():
    page = ("<html><head><title>67.1. Introduction</title></head><body><div class='navheader'>"
            "<a accesskey='u' href='btree.html' title='Chapter 67. B-Tree Indexes'>Up</a></div>"
            "<h2>67.1. Introduction</h2><p>A B-tree keeps sorted data and allows searches in logarithmic time.</p>"
            "<h3>See Also</h3><p><a href='a.html'>vacuumdb</a>, <a href='b.html'>Section 20.4.4</a>, "
            "<a href='c.html'>Section 25.1.6</a></p></body></html>")
    read = read_html(page)
    assert (read.title, read.parent) == ("Introduction", "B-Tree Indexes")
    assert read.text == "A B-tree keeps sorted data and allows searches in logarithmic time."


def test_a_list_of_longer_items_stays_a_list_of_units():
    page = ("<h2 id='R'>Reindex</h2><p>There are several scenarios in which to rebuild an index:</p><ul>"
            "<li>An index has become corrupted. Software bugs can cause it.</li><li>An index has become bloated.</li></ul>"
            "<p>Features:</p><ul><li>one</li><li>two</li></ul>")
    units = sections_by_anchor(page)["R"][1].split("\n\n")
    assert units == ["There are several scenarios in which to rebuild an index:", "An index has become corrupted. "
                     "Software bugs can cause it.", "An index has become bloated.", "Features: one; two."]


def test_a_back_of_the_book_index_is_not_content():
    page = read_html("""<html><head><title>Index</title></head><body><div class="index" id="BOOKINDEX">
<h1 class="title">Index</h1><div class="index"><p class="indexdiv-quicklinks"><a href="#A">A</a> | <a href="#T">T</a></p>
<div class="indexdiv"><h3>T</h3><dl><dt>transaction isolation level, <a href="iso.html">Transaction Isolation</a>,
<a href="set.html">Statement Behavior</a></dt></dl></div></div></div>
<table class="indextable genindextable"><tr><td><ul><li>vacuum, <a href="v.html">Routine Vacuuming</a></li></ul></td></tr></table>
</body></html>""")
    assert page.text == "" and page.links == []


def test_list_items_ending_in_commas_join_their_sentence_with_semicolons_alone():
    page = ("<html><body><h1>Futures</h1><p>Return True if obj is either of:</p><ul>"
            "<li><p>an instance of asyncio.Future,</p></li><li><p>an instance of asyncio.Task,</p></li>"
            "<li><p>a Future-like object.</p></li></ul></body></html>")
    assert read_html(page).text.strip() == (
        "Return True if obj is either of: an instance of asyncio.Future; an instance of asyncio.Task; "
        "a Future-like object.")
