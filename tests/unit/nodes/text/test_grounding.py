"""Sections keep only what their sources support: copied text gets its citation, invented claims go."""

from __future__ import annotations

from nexa_research import aresearch
from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.nodes.text.grounding import ground_section
from nexa_research.providers import make_source
from support.scripted_models import ScriptedChatModel, providers_for

SOURCES = [
    make_source(url="https://en.wikipedia.org/wiki/Printing_press", title="Printing press",
                text="A printing press is a machine that transfers ink onto paper by applying pressure to an inked surface."),
    make_source(url="https://en.wikipedia.org/wiki/Johannes_Gutenberg", title="Johannes Gutenberg",
                text="Gutenberg was a German inventor who invented the movable-type printing press in Mainz."),
]


def test_uncited_sentence_found_in_a_source_gets_that_source():
    grounded = ground_section("Gutenberg was a German inventor who invented the movable-type press in Mainz.", SOURCES)
    assert grounded.text == "Gutenberg was a German inventor who invented the movable-type press in Mainz [2]."
    assert (grounded.attributed, grounded.dropped) == (1, 0)


def test_invented_claim_is_dropped_and_cited_or_short_sentences_stay():
    text = ("Charles Scribner invented the printing device in Philadelphia during 1860. "
            "A press transfers ink onto paper [1]. It changed everything.")
    grounded = ground_section(text, SOURCES)
    assert grounded.text == "A press transfers ink onto paper [1]. It changed everything."
    assert grounded.dropped == 1


def test_an_echoed_source_list_is_removed():
    text = "[1] Printing press (https://en.wikipedia.org/wiki/Printing_press)\nA press transfers ink onto paper [1]."
    assert ground_section(text, SOURCES).text == "A press transfers ink onto paper [1]."


async def test_sections_are_grounded_in_the_graph():
    titles = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]

    def write(messages):
        section = next(line for line in str(messages[-1].content).splitlines() if line.startswith("Section: "))[9:]
        return (f"### {section}\n{section} facts detail 0: {section} is documented here. "
                "Aliens from Mars secretly operated every medieval workshop.")

    synth = ScriptedChatModel(respond=write)
    report = await aresearch("The printing press", providers=providers_for(titles, synthesizer=synth), max_iterations=1)
    for section in report.sections:
        assert section.status == "done"
        assert "Aliens" not in section.content and "###" not in section.content
        assert section.unsupported_removed == 1
        (number,) = cited_numbers(section.content)
        slug = section.title.lower().replace(" ", "-")
        assert report.bibliography[number - 1].url == f"https://example.org/{slug}/0"
    assert len(synth.calls) == len(titles)  # grounding found citations, so no draft was sent back
