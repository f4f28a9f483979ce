"""Model prose is cleaned in code: headings and list markers dropped, repeated sentences removed."""

from __future__ import annotations

from nexa_research.config import ResearchConfig
from nexa_research.nodes.text.repetition import as_plain_paragraphs, drop_repeated_sentences
from nexa_research.providers.llm.endpoints import Endpoint, build_chat_model


def test_headings_and_list_markers_are_removed_text_kept():
    text = "### The Press\nGutenberg built it [1].\n\n**Impact**\n- Books got cheaper [2].\n1. Literacy rose [1]."
    cleaned = as_plain_paragraphs(text)
    assert "#" not in cleaned and "**" not in cleaned and "- " not in cleaned
    assert "Gutenberg built it [1]." in cleaned and "Books got cheaper [2]." in cleaned and "Literacy rose [1]." in cleaned


def test_a_looping_model_loses_its_repeats_but_short_sentences_stay():
    text = "The press spread across Europe quickly [1]. It worked. The press spread across Europe quickly [2]. It worked."
    cleaned, removed = drop_repeated_sentences(text)
    assert removed == 1
    assert cleaned == "The press spread across Europe quickly [1]. It worked. It worked."


def test_embedded_model_gets_measured_budgets_unless_the_caller_chose_one():
    local = Endpoint(kind="local", base_url="http://127.0.0.1:9/v1", api_key="k", default_model="m")
    defaults = ResearchConfig().models
    assert build_chat_model("collator", defaults.collator, local).max_tokens == 1200
    assert build_chat_model("query_writer", defaults.query_writer, local).max_tokens == 100
    chosen = ResearchConfig.from_values({"models": {"collator": {"max_tokens": 3000}}}).models
    assert build_chat_model("collator", chosen.collator, local).max_tokens == 3000
    hosted = Endpoint(kind="openai", base_url="https://api.openai.com/v1", api_key="k", default_model="m")
    assert build_chat_model("collator", defaults.collator, hosted).max_tokens == 4000


def test_title_lines_and_questions_are_not_prose():
    from nexa_research.nodes.text.repetition import without_questions

    text = "Section 2: Design and Functionality\n\nThe press used a screw [1]. What did it print? It printed bibles [2]."
    assert without_questions(as_plain_paragraphs(text)) == "The press used a screw [1]. It printed bibles [2]."


def test_plan_titles_lose_numbering_and_queries_keep_one_question():
    from nexa_research.nodes.planner import clean_title
    from nexa_research.nodes.query import first_question

    assert clean_title("Section 2: Design and Functionality") == "Design and Functionality"
    assert clean_title("3. Spread across Europe") == "Spread across Europe"
    assert clean_title("Subsection 1: 1973 Oil Crisis") == "1973 Oil Crisis"  # from the eval's oil-crisis plan
    assert clean_title("2.1 Causes of the embargo") == "Causes of the embargo"
    assert clean_title("1973 oil crisis") == "1973 oil crisis"  # a year is not a number of the plan
    assert clean_title("Gutenberg's 42-line Bible") == "Gutenberg's 42-line Bible"
    assert first_question("Why did it spread? What were the benefits?") == "Why did it spread?"


def test_a_sentence_after_a_repeat_stays_written_out_when_it_leans_only_by_the_subjects_pronoun():
    """Exact repeats need no scorer: the second section's definition goes, and "It was one of the most fatal
    pandemics" after it, which says what nothing printed said, stays with its subject written out; "Its
    spread ..." after a sentence that names no subject still goes."""
    from nexa_research.nodes.text.repetition import drop_near_duplicates

    definition = "The Black Death was a plague pandemic in Europe from 1346 to 1353"
    printed = [f"{definition}."]
    text, removed = drop_near_duplicates(None, f"{definition} [2]. It was one of the most fatal pandemics in history [2].",
                                         printed)
    assert text == "The Black Death was one of the most fatal pandemics in history [2]." and removed == 1
    assert printed[-2].startswith("The Black Death was one of the most fatal")  # later sections compare with
    assert printed[-1].startswith("It was one of the most fatal")  # either form
    text, removed = drop_near_duplicates(None, "Plague reached every port of Europe by 1348 [1]. Its spread followed "
                                         "the trade routes [1].", ["Plague reached every port of Europe by 1348."])
    assert text == "" and removed == 2


def test_a_written_out_sentence_is_still_a_repeat_of_its_pronouns_form():
    """From the reader check on Isaac Newton: "As a philosopher of science, he was a major influence ..." was
    printed in one section, and another printed it written out with Ernst Mach's four given names, which carried
    it under the duplicate cut-off. The sentence as the source has it is compared too."""
    from nexa_research.nodes.text.repetition import drop_near_duplicates

    opening = "Ernst Mach was an Austrian physicist and philosopher"
    later = "As a philosopher of science, he was a major influence on logical positivism"
    printed = [f"{opening}.", f"{later}."]
    text, removed = drop_near_duplicates(None, f"{opening} [3]. {later} [3].", printed)
    assert text == "" and removed == 2
