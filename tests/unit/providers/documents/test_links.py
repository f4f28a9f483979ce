"""A page's content links, the leads research follows through a manual: a chapter's own table of contents and the
links in its text, never the navigation around it, another site or the page itself."""

from __future__ import annotations

from nexa_research.providers.documents.html_reader import read_html
from nexa_research.providers.documents.links import MAX_LINKS, resolved_links

SPHINX_INDEX = """<html><head><title>Tasks — Kit documentation</title></head><body>
<div class="sphinxsidebar" role="navigation"><ul><li><a href="timers.html">Timers</a></li></ul></div>
<div class="body" role="main"><section id="tasks"><h1>Tasks</h1>
<p>Tasks run units of work; a long introduction that makes this the page's main content for the reader, and
  one more sentence so that it is long enough to count as the main content of the page, which it is.</p>
<div class="toctree-wrapper"><ul><li><a href="groups.html">Groups</a></li><li><a href="groups.html#nesting">Nesting</a></li>
<li><a href="../api/queues.html">Queues</a></li></ul></div>
<p>See <a href="#tasks">above</a>, <a href="mailto:kit@example.org">the authors</a> and
  <a href="http://example.org/">the site</a>.</p></section></div>
<div class="related" role="navigation"><a href="index.html">next</a></div></body></html>"""


def test_the_table_of_contents_and_text_links_are_kept_and_the_navigation_is_not():
    page = read_html(SPHINX_INDEX)
    assert page.links == ["groups.html", "groups.html#nesting", "../api/queues.html"]
    assert "Groups" not in page.text, "the contents list is still not text"


def test_links_resolve_against_the_file_and_lead_to_its_sections_but_not_back_to_it():
    base = "file:///docs/kit/tasks.html"
    hrefs = ["groups.html", "groups.html#nesting", "../api/queues.html", "tasks.html#later", "tasks.html",
             "groups.html", "https://example.org/x.html"]
    assert resolved_links(base, hrefs) == [
        "file:///docs/kit/groups.html", "file:///docs/kit/groups.html#nesting", "file:///docs/api/queues.html",
        "file:///docs/kit/tasks.html#later"]


def test_an_index_page_keeps_a_bounded_number_of_links():
    items = "".join(f"<li><a href='p{n}.html'>Page {n}</a></li>" for n in range(200))
    page = read_html(f"<html><body><main><p>{'Every page of the kit. ' * 12}</p><ul>{items}</ul></main></body></html>")
    assert len(page.links) == MAX_LINKS and page.links[0] == "p0.html"
