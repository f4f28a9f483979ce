"""What counts as a fragment, for source sentences and model prose alike (nodes/text/fragments.py)."""

from __future__ import annotations

import pytest

from nexa_research.nodes.text.fragments import fragment_reason, passage_sentences, printable


def test_passage_sentences_drop_other_scripts_pronunciations_and_cut_ends():
    text = ("The Acropolis of Athens (Greek: Ακρόπολη) is an ancient citadel above the city.The word comes from "
            "Greek ἄκρον, meaning the highest point. The violoncello ( VY-ə-lən-CHEL-oh) is a bowed string "
            "instrument. It was played in the")
    sentences = passage_sentences(text)
    assert sentences == [
        "The Acropolis of Athens is an ancient citadel above the city.",
        "The violoncello is a bowed string instrument.",
    ]


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("This", "short"),
        ("The press spread to Venice...", "unterminated"),
        ("Who were the first?", "question"),
        ("Key points:", "label"),
        ("**The press** changed printing forever [1].", "markup"),
        ("The plague 鼠疫 spread along trade routes [2].", "foreign_script"),
        ("The word comes from Greek ἄκρον, meaning the highest point.", "other letters"),
        ("Fish &amp; chips were sold in the street.", "markup"),
        ("In your own words, the section covers the Silk Road trade [1].", "about the report, not the subject"),
        ("It spread fast.", "too short"),
        ("The plague spread quickly along the routes of the.", "unfinished"),
    ],
)
def test_fragments_are_named(sentence, reason):
    assert fragment_reason(sentence) == reason


def test_a_complete_cited_sentence_is_not_a_fragment():
    assert fragment_reason("Gutenberg printed the Bible in Mainz around 1455 [2].") is None


def test_printable_splits_debris_from_the_sentence_before_it():
    text, removed = printable("Wages rose as labour became scarce across Europe. **Key\n\nWho gained?")
    assert text == "Wages rose as labour became scarce across Europe." and removed == 2


def test_initials_and_abbreviations_do_not_end_a_sentence():
    from nexa_research.kernel.sentences import split_sentences

    text = "He founded C. A. Parsons and Company. Dr. Snow mapped it c. 1854. It ended after World War I. Then peace."
    assert split_sentences(text) == [
        "He founded C. A. Parsons and Company.", "Dr. Snow mapped it c. 1854.", "It ended after World War I.", "Then peace.",
    ]


def test_a_pronoun_led_sentence_goes_with_the_repeat_before_it():
    from nexa_research.nodes.text.repetition import drop_near_duplicates

    earlier = ["A steam turbine extracts energy from steam."]
    text = "A steam turbine extracts energy from steam [4]. Its modern form dates from 1884 [4]. Watt improved engines [5]."
    kept, removed = drop_near_duplicates(None, text, earlier)
    assert kept == "Watt improved engines [5]." and removed == 2


def test_a_part_without_a_finding_is_empty_not_a_sentence_about_the_report():
    """"Each of the 4 sections below answers its own questions ..." and "The report stops where its sources stop"
    stood in for an introduction and a conclusion the sources gave nothing for; the eval counts both against the
    report. Only a report with no section says why."""
    from nexa_research.kernel.self_reference import self_reference
    from nexa_research.nodes.text.narrative import plain_conclusion, plain_introduction, plain_summary

    topic, titles = "The Great Depression and the New Deal", ["New Deal", "Great Depression"]
    assert [plain_summary(topic, titles), plain_introduction(topic, titles), plain_conclusion(topic, titles)] == ["", "", ""]
    failed = [plain_summary(topic, []), plain_introduction(topic, []), plain_conclusion(topic, [])]
    assert all(failed) and not any(self_reference(p) for p in failed[1:])
    assert "the Great Depression and the New Deal could be researched" in failed[0]


def test_a_lead_opening_on_a_pronoun_is_dropped():
    from nexa_research.nodes.synthesizer import checked_lead
    from nexa_research.nodes.text.extractive import Candidate
    from nexa_research.providers.relevance import LexicalRelevance

    chosen = [Candidate(1, 0, "The plague was spread by flea bites carried by rats across Europe.", 1.0)]
    lead, dropped = checked_lead(LexicalRelevance(), "This disease was spread by flea bites carried by rats.", chosen)
    assert lead == "" and dropped == 1


def test_a_paragraph_never_opens_on_a_pronoun_that_points_at_nothing():
    """From an eval report: the section opened on "He shared the 1945 Nobel Prize ..." after the sentence naming
    Fleming went elsewhere; the next sentence ("This was ...") then opened the paragraph in its turn."""
    from nexa_research.nodes.text.repetition import without_orphans

    text = ("He shared the 1945 Nobel Prize for the discovery of penicillin [1]. This was the first antibiotic [1]. "
            "Penicillin is made by fermentation [1].\n\nPenicillins treat many infections [2]. They are still used [2].")
    out, removed = without_orphans(text)
    assert removed == 2
    assert out == "Penicillin is made by fermentation [1].\n\nPenicillins treat many infections [2]. They are still used [2]."


def test_a_pronoun_after_an_opening_phrase_still_needs_its_antecedent():
    """From an eval report on the Amazon: the Paraná River's "Among South American rivers, it is second in length
    only to the Amazon River" opened a paragraph with the Paraná never named."""
    from nexa_research.kernel.sentences import NEEDS_ANTECEDENT

    for sentence in ("Among South American rivers, it is second in length only to the Amazon River.",
                     "However, they did not return.", "In 1450, this press printed indulgences.", "He sailed in 1492.",
                     "In addition, the classic definition sidelines India and Iran.", "Moreover, trade grew.",
                     "As a result, silk reached Rome."):
        assert NEEDS_ANTECEDENT.match(sentence), sentence
    for sentence in ("In 1450, Gutenberg printed indulgences.", "The Amazon River is the largest river by discharge.",
                     "Thebes was a city.", "After the war, the empire declined, and it never recovered.",
                     "Thusnelda was a Germanic noblewoman.", "Alsace is a region of France."):
        assert not NEEDS_ANTECEDENT.match(sentence), sentence


def test_a_lead_joining_one_sources_subject_to_anothers_claim_is_dropped():
    """From the eval's Darwin report: each word of the merged lead is in some chosen sentence, but not in those of
    the one source it would be cited to."""
    from nexa_research.nodes.synthesizer import checked_lead
    from nexa_research.nodes.text.extractive import Candidate
    from nexa_research.providers.kb.embeddings import default_embedder
    from nexa_research.providers.relevance import EmbeddingRelevance

    chosen = [
        Candidate(1, 0, "Charles Robert Darwin was an English naturalist, geologist, and biologist, widely known for "
                        "his contributions to evolutionary biology.", 1.0),
        Candidate(1, 5, "In a joint presentation with Alfred Russel Wallace, he introduced his scientific theory that "
                        "this branching pattern of evolution resulted from a process he called natural selection.", 0.9),
        Candidate(2, 0, "On the Origin of Species is a work of scientific literature by the English naturalist "
                        "Charles Darwin that is considered to be the foundation of evolutionary biology.", 0.9),
    ]
    merged = ("Charles Darwin and the theory of evolution by natural selection is a work of scientific literature by "
              "the Alfred Russel Wallace.")
    lead, dropped = checked_lead(EmbeddingRelevance(default_embedder()), merged, chosen)
    assert lead == "" and dropped == 1


def test_a_pronoun_after_a_long_opening_phrase_still_needs_its_antecedent():
    """From the eval's Darwin report, where this sentence opened a paragraph of the Origin of Species section."""
    from nexa_research.nodes.text.repetition import without_orphans

    text, removed = without_orphans("In a joint presentation with Alfred Russel Wallace, he introduced his theory [1]. "
                                    "Natural selection is the differential survival of individuals [2].")
    assert removed == 1 and text.startswith("Natural selection")


def test_a_section_whose_sentences_all_belong_to_another_still_gets_them():
    """From the eval's oil-crisis report: two sections of one plan on the same two articles, and every sentence
    matched the other section better, so four of five sections printed "missing". A section prints its own
    sources' passages; which section keeps a shared source is the collator's (nodes/text/ownership.py)."""
    from nexa_research.nodes.text.extractive import extract_section
    from nexa_research.providers.kb.embeddings import default_embedder
    from nexa_research.providers.relevance import EmbeddingRelevance
    from nexa_research.state import new_paragraph

    relevance = EmbeddingRelevance(default_embedder())
    topic = "The 1973 oil crisis and OPEC"
    source = {"id": "1", "url": "https://en.wikipedia.org/wiki/1973_oil_crisis", "title": "1973 oil crisis",
              "published": None, "score": 0.9,
              "text": "In October 1973, the Organization of Arab Petroleum Exporting Countries announced a total oil "
                      "embargo against countries that had supported Israel during the Yom Kippur War. The embargo "
                      "made the price of oil rise nearly 300 percent by 1974."}
    vague = new_paragraph(0, "1973 oil crisis", "What the 1973 oil crisis was.", ["What was the 1973 oil crisis?"])
    text, chosen = extract_section(relevance, topic, vague, [source])
    assert chosen and "embargo" in text


def test_model_prose_that_repeats_a_run_of_words_is_not_printed():
    """A small model's conclusion (Black Death reader check) repeated its own phrase; a source's sentence that
    names an award twice is the source's and is kept."""
    from nexa_research.nodes.text.fragments import passage_sentences, printable

    stutter = ("The Black Death had a profound impact on European society, leading to the death of up to 50 million "
               "people or 50% of Europe's 14th-century population, or 50% of Europe's 14th-century population [1].")
    fine = "The plague reached England in 1348 and killed a third of its people [1]."
    assert printable(f"{stutter} {fine}") == (fine, 1)
    award = ("It tied with This Immortal for the Hugo Award for Best Novel and won the inaugural Nebula Award for "
             "Best Novel in 1966.")
    assert passage_sentences(award) == [award]


def test_a_blank_line_ends_a_passage_sentence():
    from nexa_research.nodes.text.fragments import passage_sentences

    text = ("The command has to process each table on a regular basis for several reasons:\n\n"
            "Recovering the disk space held by deleted rows\n\nCLEAN (VERBOSE) orders;\n\n"
            "Each of these reasons calls for cleaning of a different frequency.")
    assert passage_sentences(text) == ["Each of these reasons calls for cleaning of a different frequency."]


def test_a_sentence_may_open_on_a_name_in_lower_case_but_not_on_a_plain_word():
    from nexa_research.nodes.text.fragments import fragment_reason

    for sentence in ("vacuum_defer_cleanup_age (integer): Specifies how many transactions cleanup waits.",
                     "pg_dump is a utility for backing up a database.", "asyncio.run() runs the coroutine to its end."):
        assert fragment_reason(sentence) is None, sentence
    for sentence in ("of the empire was divided among three sons.", "e.g. this one was cut in the middle."):
        assert fragment_reason(sentence) == "starts mid-sentence", sentence


def test_a_manuals_pointer_to_another_part_of_itself_is_not_printed():
    from nexa_research.nodes.text.fragments import fragment_reason

    for sentence in ("See Chapter 13 for more information about transaction isolation [4].",
                     "For more information, see ANALYZE.", "Refer to Section 20.4 for the settings."):
        assert fragment_reason(sentence) == "a pointer to another part of the document", sentence
    assert fragment_reason("Seeing the effects of an update requires a new snapshot.") is None


def test_a_table_row_is_data_not_a_sentence_to_print():
    from nexa_research.nodes.text.fragments import fragment_reason

    assert fragment_reason("Operation: overlap; Strategy Number: 1.") == "a table row"
    assert fragment_reason("Isolation Level: Serializable; Dirty Read: Not possible; Phantom Read: Not possible [1].") == "a table row"
    for sentence in ("The ratio was 3:1; the rest followed later in the year.",
                     "He said: we will go; they said: we will not go now.",
                     "Caution: the table must be empty; otherwise the command fails."):
        assert fragment_reason(sentence) != "a table row", sentence


def test_a_documents_words_about_itself_are_not_printed():
    from nexa_research.nodes.text.fragments import fragment_reason

    for sentence in ("Accordingly, we first discuss the mechanics of archiving WAL files [6].",
                     "This chapter describes the available index types in some detail.",
                     "(What kind of query can use what kind of index is explained in the previous sections.)",
                     "The following section shows how to set the parameter for one session."):
        assert fragment_reason(sentence) == "about the report, not the subject", sentence
    assert fragment_reason("We observed a large decline in trade after the war ended.") is None
    assert fragment_reason("The next steps of the pipeline were built in the following year.") is None


def test_a_pointer_to_where_a_description_is_found_is_not_printed():
    # the WAL page's "A detailed description can be found in most (if not all) books ..." opened a section
    assert fragment_reason("A detailed description can be found in most (if not all) books about transaction "
                           "processing.") == "a pointer to another part of the document"
    assert fragment_reason("A description of the locking rules can be found in Chapter 13.") is not None
    # a statement about where a description is, with no pointing adjective, is a finding
    assert fragment_reason("The earliest description of the disease is found in the Hippocratic corpus.") is None
    assert fragment_reason("The description of the battle is found in several chronicles of the time.") is None


def test_sentences_glued_without_a_space_are_parted_but_dotted_names_are_not():
    from nexa_research.nodes.text.fragments import passage_sentences

    assert passage_sentences(
        "Gibbons are the lesser apes, smaller than the great apes.The family Hylobatidae has four genera."
    ) == ["Gibbons are the lesser apes, smaller than the great apes.", "The family Hylobatidae has four genera."]
    # a manual's dotted names: cut at the stop, the first printed as "Future to wait for the result ..."
    assert passage_sentences(
        "Return a concurrent.futures.Future to wait for the result from another OS thread.\n\n"
        "Wrap a concurrent.futures.Future object in a asyncio.Future object."
    ) == ["Return a concurrent.futures.Future to wait for the result from another OS thread.",
          "Wrap a concurrent.futures.Future object in a asyncio.Future object."]
