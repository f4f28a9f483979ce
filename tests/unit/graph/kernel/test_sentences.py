"""One sentence splitter, comparison key and leaning-sentence test (nexa_research.kernel.sentences)."""

from __future__ import annotations

from nexa_research.kernel.sentences import (
    CITATION,
    NEEDS_ANTECEDENT,
    leans_on_previous,
    sentence_key,
    split_sentences,
    with_subject_named,
)


def test_a_time_or_place_given_by_a_demonstrative_leans_on_the_sentence_before():
    for sentence in ("Before this Pharaoh was a term that meant the royal palace.", "After that, trade declined.",
                     "By then the empire had split.", "During this period the Nile flooded yearly.",
                     "In this approach, the idea is to keep disk usage steady.",
                     "Note that they also use extra disk space.", "Now another detail enters the stage.",
                     "The above demonstrates how the rules work."):
        assert NEEDS_ANTECEDENT.match(sentence), sentence
    for sentence in ("Before 1500 the pharaohs built pyramids.", "After the war, Egypt declined.",
                     "During the Old Kingdom, pyramids were built.", "In 1928 Fleming found penicillin.",
                     "Note that the table must be owned by the caller.", "Nowadays the port handles containers.",
                     "The abovementioned treaty ended the war."):
        assert not NEEDS_ANTECEDENT.match(sentence), sentence


def test_a_pronoun_after_an_adverb_leans_on_the_sentence_before():
    """A transistor report's conclusion was "Typically this is the step between logic design and physical design"."""
    assert NEEDS_ANTECEDENT.match("Typically this is the step between logic design and physical design [3].")
    assert NEEDS_ANTECEDENT.match("Usually they were built of stone.")
    assert not NEEDS_ANTECEDENT.match("Typically transistors are made of silicon.")
    # a part of what came before: a Viking report printed Odin's "Several of these stem from ..." on its own
    assert NEEDS_ANTECEDENT.match("Several of these stem from the reconstructed theonym Wodanaz [3].")
    assert NEEDS_ANTECEDENT.match("Two of them survived the war.")
    assert not NEEDS_ANTECEDENT.match("Several of the gods have hundreds of names.")
    assert not NEEDS_ANTECEDENT.match("Italy is a country in Europe.")
    # a pronoun after two opening phrases (the Hoover Dam's article, cut to its sentence naming the Depression)
    assert NEEDS_ANTECEDENT.match("Constructed between 1931 and 1936, during the Great Depression, it was dedicated "
                                  "by President Franklin D. Roosevelt.")
    assert not NEEDS_ANTECEDENT.match("Constructed between 1931 and 1936, during the Great Depression, the dam was "
                                      "dedicated by President Franklin D. Roosevelt.")


def test_an_event_dated_by_the_one_before_leans_on_it_except_as_a_source_s_first_sentence():
    """An Ottoman report printed "A group of assassins subsequently killed Selim [2]." alone in a section."""
    assert leans_on_previous("A group of assassins subsequently killed Selim [2].")
    assert leans_on_previous("Shortly afterwards, the treaty was signed.")
    assert leans_on_previous("The city was thereafter ruled by bishops.")
    assert not leans_on_previous("A group of assassins subsequently killed Selim.", first=True)
    assert not leans_on_previous("Penicillin was later mass-produced in the United States.")
    assert leans_on_previous("Later, in 1532, Francisco Pizarro captured the Inca emperor Atahualpa [3].")
    assert leans_on_previous("Then the army marched north.")
    assert not leans_on_previous("Later, in 1532, Francisco Pizarro captured Atahualpa.", first=True)
    assert not leans_on_previous("The events of the war and its aftermath were subsequently studied by many.", first=True)
    # far into a long sentence the word dates a clause of its own, not the sentence
    assert not leans_on_previous("Selim III was an Ottoman sultan who ruled from 1789 to 1807 and who was subsequently killed.")


def test_sentences_split_after_full_stops_but_not_after_initials_and_compare_without_citations():
    assert split_sentences("The firm of C. A. Parsons built a turbine in c. 1884 [1]. It worked. Dr. Snow agreed.") == [
        "The firm of C. A. Parsons built a turbine in c. 1884 [1].", "It worked.", "Dr. Snow agreed."]
    assert sentence_key("X is Y [2].") == sentence_key("x is y [5]") == "x is y"
    assert CITATION.findall("a [1, 2] b [3-4]") == ["1, 2", "3-4"]


def test_one_splitter_for_pipeline_and_eval_keeps_abbreviations_and_late_citations():
    from nexa_research.evals.report_text import split_text

    text = ("Apple Inc. and Prof. Lee met in the U.S. in 1990. It spread quickly. [2] Then it reached Venice, "
            "e.g. Murano. World War I. The war ended.")
    expected = ["Apple Inc. and Prof. Lee met in the U.S. in 1990.", "It spread quickly. [2]",
                "Then it reached Venice, e.g. Murano.", "World War I.", "The war ended."]
    assert split_sentences(text) == expected
    assert split_text(text) == expected  # the eval reads a report's sentences as the pipeline cut them


def test_a_pronoun_after_a_subordinating_word_leans_on_the_sentence_before():
    assert leans_on_previous("Though he is most famous for his contributions to photography, he was also a painter.")
    assert leans_on_previous("Although its output was small, the press spread quickly.")
    assert not leans_on_previous("Though photography was invented in France, the process soon reached Britain.")


def test_an_ellipsis_inside_a_sentence_is_not_its_end():
    text = ("With --create, pg_restore also restores any ALTER DATABASE ... SET ... commands that mention this "
            "database [11]. It needs a connection.")
    assert split_sentences(text) == [
        "With --create, pg_restore also restores any ALTER DATABASE ... SET ... commands that mention this database [11].",
        "It needs a connection.",
    ]


def test_a_definitions_subject_stands_in_for_the_pronoun_that_follows_it():
    from nexa_research.kernel.sentences import named_subject, with_subject_named

    assert named_subject("The Black Death was a plague pandemic that occurred in Europe [1].") == "The Black Death"
    assert named_subject("Edward III, also known as Edward of Windsor before accession, was King of England.") == "Edward III"
    assert named_subject("The period was characterized by high unemployment.") is None
    assert named_subject("It was one of the most fatal pandemics.") is None
    assert with_subject_named("It was one of the most fatal pandemics [1].", "The Black Death") == (
        "The Black Death was one of the most fatal pandemics [1].")
    assert with_subject_named("His fifty-year reign is one of the longest.", "Edward III") == (
        "Edward III's fifty-year reign is one of the longest.")
    assert with_subject_named("It is estimated that 50 million died.", "The Black Death") is None  # an "it" for nothing
    # a "he" after a thing's definition stands for a person that sentence named later ("... under President Franklin
    # D. Roosevelt. He introduced the phrase ...")
    assert with_subject_named("He introduced the phrase in 1932.", "The New Deal") is None
    assert with_subject_named("Its reforms lasted until 1938.", "The New Deal") == "The New Deal's reforms lasted until 1938."
    assert with_subject_named("However, it was an intermittent conflict.", "The war") is None  # a connective leans still


def test_an_opening_phrase_with_a_number_in_it_still_leans_and_its_pronoun_can_be_written_out():
    # "6,400" is a number, not the end of the phrase: the Silk Road report printed this first in its section
    spanning = "Spanning over 6,400 km (4,000 mi) on land, it played a central role in trade [1]."
    assert leans_on_previous(spanning, first=True)
    assert with_subject_named(spanning, "The Silk Road") == (
        "Spanning over 6,400 km (4,000 mi) on land, the Silk Road played a central role in trade [1].")
    assert with_subject_named("Historically, it has been a major link [1].", "Lanzhou") == (
        "Historically, Lanzhou has been a major link [1].")
    assert with_subject_named("Historically, it was not until 1900 that trade grew.", "Lanzhou") is None
    survived = "Having survived the fall of the Western Roman Empire in the 5th century AD, it endured until 1453."
    assert leans_on_previous(survived, first=True)
    assert with_subject_named(survived, "The Byzantine Empire") == (
        "Having survived the fall of the Western Roman Empire in the 5th century AD, the Byzantine Empire endured "
        "until 1453.")
    assert with_subject_named("Historically, It has been a link.", "Lanzhou") is None
    # a list of names before the pronoun (Pompeii's article): four phrases, each ended by a comma
    buried = "Along with Herculaneum, Stabiae, and many surrounding villas, it was buried under volcanic ash [1]."
    assert leans_on_previous(buried, first=True)
    assert with_subject_named(buried, "Pompeii") == (
        "Along with Herculaneum, Stabiae, and many surrounding villas, Pompeii was buried under volcanic ash [1].")
    assert not leans_on_previous("Herculaneum, Stabiae, Oplontis and Boscoreale, all near Naples, were buried [1].",
                                 first=True)


def test_a_reference_rows_sentence_opening_on_its_verb_leans_on_the_name_beside_it():
    # "Returns the current write-ahead log flush location" was a PostgreSQL report's introduction
    assert leans_on_previous("Returns the current write-ahead log flush location (see notes below).", first=True)
    assert leans_on_previous("Specifies whether the server should use SSL.", first=True)
    assert not leans_on_previous("Sets of tools were found in the cave.", first=True)  # a noun
    assert not leans_on_previous("Returns from the harvest fell in 1315.", first=True)


def test_a_sentence_opening_on_other_or_another_leans_on_what_came_before():
    # an Apollo report's conclusion took a Spaceflight passage's last sentence
    assert leans_on_previous("Other current spaceflight are conducted to the International Space Station [2].",
                             first=True)
    assert leans_on_previous("Another cause was the collapse of farm prices.", first=True)
    assert not leans_on_previous("Other than its capital, the region has no large city.", first=True)


def test_a_sentence_is_written_alone_with_the_subject_its_chain_names():
    """A pronoun two sentences down a chain stands for the subject of the sentence that opened it; a chain that
    opens on no named subject gives none, and neither does a sentence that leans by a demonstrative."""
    from nexa_research.kernel.sentences import written_alone

    chain = ["Sir Alexander Fleming was a Scottish physician [1].", "He shared the 1945 Nobel Prize [1].",
             "This was the first antibiotic substance discovered [1]."]
    assert written_alone(chain, "His discovery in 1928 was acclaimed [1].") == (
        "Sir Alexander Fleming's discovery in 1928 was acclaimed [1].")
    assert written_alone(chain[:2], "This was the first antibiotic substance discovered [1].") is None
    assert written_alone(["Europe lost half its people [1].", "It took a century to recover [1]."],
                         "Its cities shrank [1].") is None
