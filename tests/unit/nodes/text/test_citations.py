"""Citations are checked in code: invalid numbers never reach the report, URLs are de-duplicated globally."""

from __future__ import annotations

import re

from nexa_research import aresearch
from nexa_research.nodes.text.citations import BibliographyBuilder, cited_numbers, repair_citations
from nexa_research.providers import make_source
from nexa_research.urls import normalize_url
from support.scripted_models import ScriptedChatModel, cite_all_synthesizer, providers_for

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


def test_repair_drops_numbers_outside_the_sources():
    result = repair_citations("Fact one [1]. Fact two [9]. Both [2, 9]. Range [1-3].", source_count=3)
    assert result.invalid == [9, 9]
    assert cited_numbers(result.text) == [1, 2, 1, 2, 3]
    assert "[9]" not in result.text
    assert "Fact two." in result.text


def test_bibliography_merges_urls_that_normalise_equal():
    bib = BibliographyBuilder()
    a = make_source(url="https://www.Example.org/page/?utm_source=x", title="A", text="one")
    b = make_source(url="http://example.org/page#section", title="A again", text="two")
    text = bib.renumber_section("First [1]. Second [2].", [a, b])
    assert text == "First [1]. Second [1]."
    assert len(bib.entries) == 1 and bib.entries[0]["source_ids"] == [a["id"], b["id"]]
    assert normalize_url(a["url"]) == normalize_url(b["url"])


async def test_section_citing_a_missing_source_is_rejected_then_repaired():
    synth = cite_all_synthesizer(extra=" An invented claim [9].")
    providers = providers_for(TITLES, synthesizer=synth)
    report = await aresearch("The printing press", providers=providers, search_results=3, max_iterations=1)
    # each section: the draft was sent back once with the reason, then the remaining [9] removed in code
    assert len(synth.calls) == 2 * len(TITLES)
    retries = [c for c in synth.calls if "Rejected" in str(c[-1].content)]
    assert len(retries) == len(TITLES)
    assert all("you cited [9], but only sources 1 to 3 exist" in str(c[-1].content) for c in retries)
    for section in report.sections:
        assert section.citation_repairs == 2
        assert "invented claim [" not in section.content.lower()  # its [9] never survives
    numbers = {e.number for e in report.bibliography}
    assert all(int(n) in numbers for s in report.sections for n in re.findall(r"\[(\d+)\]", s.content))


async def test_every_citation_resolves_and_bibliography_has_unique_urls():
    shared = "https://example.org/shared-reference"
    providers = providers_for(TITLES, shared_url=shared)
    report = await aresearch("The printing press", providers=providers, search_results=4, max_iterations=1)
    numbers = {e.number for e in report.bibliography}
    assert numbers == set(range(1, len(report.bibliography) + 1))
    urls = [normalize_url(e.url) for e in report.bibliography]
    assert len(urls) == len(set(urls))
    assert urls.count(normalize_url(shared)) == 1
    retrieved = {s.url for s in report.bibliography}
    texts = [report.executive_summary, report.introduction, report.conclusion]
    texts += [s.content for s in report.sections] + [s.transition for s in report.sections]
    for text in texts:
        for n in cited_numbers(text):
            assert n in numbers, f"[{n}] does not resolve"
    # the collator's invented [99] was removed; its real [1] kept
    assert "[99]" not in report.executive_summary and "[1]" in report.executive_summary
    assert all(url.startswith("https://example.org/") for url in retrieved)


async def test_numbers_follow_first_citation_order_across_sections():
    providers = providers_for(TITLES)
    report = await aresearch("The printing press", providers=providers, search_results=2, max_iterations=1)
    body = " ".join(s.content for s in report.sections)
    first_seen = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", body)))
    assert first_seen == sorted(first_seen)


async def test_sentences_repeated_across_sections_are_removed():
    repeated = "The printing press changed how knowledge was shared everywhere [1]."
    synth = ScriptedChatModel(respond=lambda m: f"{repeated} Something specific to this part is here [2].")
    report = await aresearch("The printing press", providers=providers_for(TITLES, synthesizer=synth), max_iterations=1)
    contents = [s.content for s in report.sections]
    assert sum("changed how knowledge was shared" in c for c in contents) == 1
    assert any("repeated across sections" in w for w in report.metadata.warnings)


def test_sources_offered_beside_the_bibliography_get_entries_only_when_cited():
    bib = BibliographyBuilder()
    a, b, c, d = (make_source(url=f"https://example.org/{n}", title=n, text=f"text {n}") for n in "abcd")
    bib.renumber_section("A section [1][2].", [a, b])
    summary, conclusion = bib.admit_cited(["First [100002]. Known [1]. Model's own [7].", "Then [100001] [100002]."],
                                          [c, d, a])
    assert summary == "First [3]. Known [1]. Model's own." and conclusion == "Then [4] [3]."
    assert [e["title"] for e in bib.entries] == ["a", "b", "d", "c"]  # in order of first citation, once each
