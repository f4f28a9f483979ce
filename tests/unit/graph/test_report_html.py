"""The HTML report a reader opens in a browser: escaped, self-contained, every citation and contents link landing
on something, missing sections and the run's metadata shown. The page is read back with the standard library's
HTML parser, as a browser would build it, not searched as a string."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from nexa_research.errors import ResearchInputError
from nexa_research.report import BibliographyEntry, Report, ReportMetadata, ReportSection
from nexa_research.report_formats import FORMATS, report_format
from nexa_research.report_html import render_html

HOSTILE_TITLE = "Tea & <script>alert('title')</script> trade"


class Page(HTMLParser):
    """Elements, ids, links and text of a parsed page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[dict[str, str | None]] = []
        self.ids: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.text: list[str] = []
        self._link: list[str] | None = None
        self._href = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        self.attrs.append(found)
        if found.get("id"):
            self.ids.append(found["id"] or "")
        if tag == "a":
            self._link, self._href = [], found.get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.links.append((self._href, "".join(self._link)))
            self._link = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._link is not None:
            self._link.append(data)

    def all_text(self) -> str:
        return "".join(self.text)


def make_report(**changes: object) -> Report:
    sections = [
        ReportSection(index=0, title="Early <trade> & routes", status="done",
                      content="Tea reached Europe by sea [1]. Prices fell [2, 3].\n\nA later rise [1-3] and a "
                              "stray [9] <img src=x onerror=alert(1)> & more.",
                      transition="Trade began with ships [2]."),
        ReportSection(index=1, title="Plantations", status="missing", content="",
                      error="search failed: the <backend> & its index were unavailable"),
    ]
    values: dict[str, object] = dict(
        title=HOSTILE_TITLE,
        topic="The tea trade",
        executive_summary="Tea moved from China to the world [1].",
        introduction="This report follows tea [2].",
        sections=sections,
        conclusion="Tea is global [3].",
        bibliography=[
            BibliographyEntry(number=1, url="https://example.org/tea?a=1&b=\"2\"", title="Tea <b>history</b> & co",
                              passages=["Tea <script>document.title</script> reached Europe."]),
            BibliographyEntry(number=2, url="file:///home/me/docs/ships%20log.pdf#page=3", title="Ships log"),
            BibliographyEntry(number=3, url="javascript:alert(document.cookie)", title="A crawled trap"),
        ],
        metadata=ReportMetadata(
            topic="The tea trade", thread_id="thread-42", created_at="2026-12-06T16:37:14+00:00",
            models={"planner": ["http://127.0.0.1:1/v1 small-model"], "synthesizer": ["http://127.0.0.1:1/v1 big"]},
            models_used={"planner": ["small-model.gguf"]},
            token_usage={"planner": {"input_tokens": 2160, "output_tokens": 1998}},
            iterations={"Early <trade> & routes": 2}, sources_per_round={"Early <trade> & routes": [5, 3]},
            timings={"plan": 78.0, "synthesize": 45.0}, warnings=["one <warning> & note"],
        ),
    )
    values.update(changes)
    return Report.model_validate(values)


@pytest.fixture
def page() -> Page:
    return Page(render_html(make_report()))


def test_text_from_models_and_sources_is_escaped_never_markup(page: Page) -> None:
    html = render_html(make_report())
    assert page.tags.count("script") == 0 and "img" not in page.tags and "b" not in page.tags
    assert not [a for a in page.attrs if any(k.startswith("on") for k in a)]
    text = page.all_text()
    for raw in (HOSTILE_TITLE, "<img src=x onerror=alert(1)> & more.", "Tea <b>history</b> & co",
                "Tea <script>document.title</script> reached Europe.", "the <backend> & its index", "one <warning> & note"):
        assert raw in text, raw
    assert "<title>Tea &amp; &lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; trade</title>" in html


def test_every_citation_links_to_its_bibliography_entry_and_none_points_nowhere(page: Page) -> None:
    citations = [(href, text) for href, text in page.links if href.startswith("#ref-")]
    assert [text for _, text in citations] == ["1", "2", "2", "1", "2", "3", "1", "3", "3"]
    assert {href for href, _ in citations} <= {f"#{i}" for i in page.ids}
    assert {"ref-1", "ref-2", "ref-3"} <= set(page.ids)
    assert "#ref-9" not in {href for href, _ in page.links} and "stray [9]" in page.all_text()


def test_bibliography_entries_link_to_their_sources_but_only_by_safe_schemes(page: Page) -> None:
    hrefs = {text: href for href, text in page.links}
    assert hrefs["Tea <b>history</b> & co"] == "https://example.org/tea?a=1&b=\"2\""
    assert hrefs["Ships log"] == "file:///home/me/docs/ships%20log.pdf#page=3"
    assert "A crawled trap" not in hrefs and not [h for h, _ in page.links if h.lower().startswith("javascript")]
    assert "javascript:alert(document.cookie)" in page.all_text()  # still shown, as text


def test_contents_link_to_every_part_and_missing_sections_say_why(page: Page) -> None:
    internal = [href for href, _ in page.links if href.startswith("#") and not href.startswith("#ref-")]
    assert internal == ["#summary", "#introduction", "#section-1", "#section-2", "#conclusion", "#sources", "#run"]
    assert {href[1:] for href in internal} <= set(page.ids)
    contents = {href: text for href, text in page.links if href in internal}
    assert contents["#section-1"] == "1. Early <trade> & routes" and contents["#section-2"] == "2. Plantations (missing)"
    assert "This section is missing: search failed: the <backend> & its index were unavailable" in page.all_text()


def test_the_run_metadata_closes_the_page(page: Page) -> None:
    text = page.all_text()
    about = text.rindex("About this report")  # the heading; the contents list names it first
    assert text.index("Ships log") < about
    tail = text[about:]
    for fact in ("2026-12-06T16:37:14+00:00", "thread-42", "Sources cited3", "Sources found (new per research round, "
                 "all sections)8", "2 min 3 s", "planner", "http://127.0.0.1:1/v1 small-model", "small-model.gguf",
                 "2160", "1998", "synthesizer", "1 min 18 s"):
        assert fact in tail, fact


def test_the_page_is_self_contained() -> None:
    page = Page(render_html(make_report()))
    assert page.tags[:4] == ["html", "head", "meta", "meta"]
    assert not {"link", "script", "img", "iframe", "object"} & set(page.tags)
    assert not [a for a in page.attrs if "src" in a]
    policy = next(a["content"] for a in page.attrs if a.get("http-equiv") == "Content-Security-Policy")
    assert policy is not None and policy.startswith("default-src 'none'")
    assert render_html(make_report()).startswith("<!DOCTYPE html>")


def test_a_report_without_sources_or_metadata_still_renders() -> None:
    bare = make_report(bibliography=[], executive_summary="No claims.", introduction="", conclusion="",
                       sections=[ReportSection(index=0, title="Only", status="done", content="Plain text.")],
                       metadata=ReportMetadata(topic="t", created_at="2026-01-01T00:00:00+00:00"))
    page = Page(render_html(bare))
    assert "No sources were cited." in page.all_text()
    assert not [href for href, _ in page.links if href.startswith("#ref-")]
    # a part the sources gave no finding for is empty: no heading, no contents entry, no anchor
    internal = [href for href, _ in page.links if href.startswith("#")]
    assert internal == ["#summary", "#section-1", "#sources", "#run"] and not {"introduction", "conclusion"} & set(page.ids)
    markdown = bare.to_markdown()
    assert "## Executive summary" in markdown and "## Introduction" not in markdown and "## Conclusion" not in markdown


def test_formats_are_named_once_and_a_wrong_name_says_which_field() -> None:
    report = make_report()
    assert FORMATS["html"].render(report) == render_html(report)
    assert Report.from_json(report_format("JSON").render(report)) == report
    assert report_format("markdown").render(report) == report.to_markdown()
    with pytest.raises(ResearchInputError, match="format: 'pdf' is not a report format; use one of markdown, html, json"):
        report_format("pdf")
