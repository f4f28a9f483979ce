"""Which section prints a source two sections gathered: the one the source is about (nodes/text/ownership.py),
settled report-wide by the collator. Real MiniLM relevance."""

from __future__ import annotations

import pytest

from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance
from nexa_research.state import new_paragraph
from nexa_research.urls import normalize_url


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


BATU = ("Batu Khan was a Mongol ruler and founder of the Golden Horde, a constituent of the Mongol Empire established "
        "after Genghis Khan's demise")
EMPIRE = "The Mongol Empire of the 13th and 14th centuries was the largest contiguous empire in history"
MICHELANGELO = ("Michelangelo was an Italian sculptor, painter, architect, and poet of the High Renaissance, born in the "
                "Republic of Florence and active in Rome")
LEONARDO = "Leonardo da Vinci was an Italian polymath of the High Renaissance, active as a painter and engineer"


def test_a_source_two_sections_print_stays_in_the_one_it_is_about(relevance):
    """From `make run` on the Mongol Empire: the broad first section printed Batu Khan's opening sentence, the
    report-wide de-duplication kept that first copy, and the "Batu Khan" section was left one stray line. Its whole
    passage now stays in "Batu Khan", the sentence leaning on it included."""
    from nexa_research.nodes.collator import assemble_sections

    batu_source = {"id": "b", "url": "https://en.wikipedia.org/wiki/Batu_Khan", "title": "Batu Khan",
                   "text": BATU + ".", "published": None, "score": 0.6}
    empire_source = {"id": "e", "url": "https://en.wikipedia.org/wiki/Mongol_Empire", "title": "Mongol Empire",
                     "text": EMPIRE + ".", "published": None, "score": 0.7}
    broad = {**new_paragraph(0, "Key Events of the Mongol Empire", "The main events in the history of the Mongol "
                             "Empire.", ["What were the key events?"]),
             "status": "done", "research": [empire_source, batu_source],
             "latest_summary": f"{EMPIRE} [1].\n\n{BATU} [2]. He ruled the Golden Horde for a decade [2]."}
    batu = {**new_paragraph(1, "Batu Khan", "What the sources say about Batu Khan.", ["What was Batu Khan?"]),
            "status": "done", "research": [batu_source], "latest_summary": f"{BATU} [1]."}
    sections, bibliography, removed, left_out = assemble_sections({"paragraphs": [broad, batu]}, relevance)

    assert [s.title for s in sections] == ["Key Events of the Mongol Empire", "Batu Khan"] and not left_out
    assert sections[0].content == f"{EMPIRE} [1]."  # Batu's passage went whole ("He ruled ..." with it)
    assert sections[1].content == f"{BATU} [2]."
    assert removed == 2 and [e["title"] for e in bibliography.entries]  # sentences == ["Mongol Empire", "Batu Khan"]


def test_a_source_that_leads_a_section_stays_there(relevance):
    """From `make run` on the Renaissance in Italy and its artists: the Leonardo section's outline named
    Michelangelo too, so it took Michelangelo's article from the "Michelangelo" section, which lost its other
    articles the same way and was left out. A section's leading source (its first paragraph) is its own."""
    from nexa_research.nodes.text.ownership import SectionDraft, settle_shared_sources

    michelangelo = {"id": "m", "url": "https://en.wikipedia.org/wiki/Michelangelo", "title": "Michelangelo",
                    "text": MICHELANGELO, "published": None, "score": 0.6}
    leonardo = {"id": "l", "url": "https://en.wikipedia.org/wiki/Leonardo_da_Vinci", "title": "Leonardo da Vinci",
                "text": LEONARDO, "published": None, "score": 0.6}
    broad = SectionDraft("Leonardo da Vinci. Leonardo, Michelangelo and the sculptors and painters of the High "
                         "Renaissance in Florence and Rome.", f"{LEONARDO} [2].\n\n{MICHELANGELO} [1].",
                         [michelangelo, leonardo])
    own = SectionDraft("Michelangelo. The artist.", f"{MICHELANGELO} [1].\n\n{LEONARDO} [2].", [michelangelo, leonardo])
    contents, removed = settle_shared_sources(relevance, [broad, own])
    assert contents == [f"{LEONARDO} [2].", f"{MICHELANGELO} [1]."] and removed == 2


def test_sources_printed_once_are_left_as_they_are(relevance):
    from nexa_research.nodes.text.ownership import SectionDraft, settle_shared_sources

    source = {"id": "b", "url": "https://en.wikipedia.org/wiki/Batu_Khan", "title": "Batu Khan",
              "text": BATU + ".", "published": None, "score": 0.6}
    drafts = [SectionDraft("Batu Khan.", f"{BATU} [1].", [source]), SectionDraft("Other.", "", [])]
    assert settle_shared_sources(relevance, drafts) == ([f"{BATU} [1].", ""], 0)


def test_a_shared_source_about_as_close_to_two_sections_goes_to_the_one_with_fewer_sources(relevance):
    from nexa_research.nodes.text.ownership import BALANCE_MARGIN, SectionDraft, settle_shared_sources

    def source(title: str, text: str) -> dict:
        return {"id": title, "url": f"https://en.wikipedia.org/wiki/{title.replace(' ', '_')}", "title": title,
                "text": text, "published": None, "score": 0.6}

    shared = source("Giza pyramid complex", "The Giza pyramid complex holds the pyramids of Khufu, Khafre and Menkaure.")
    others = [source(f"Pharaoh {n}", f"Pharaoh {n} ruled Egypt in the Old Kingdom.") for n in "ABC"]
    broad = SectionDraft("Pyramids of Giza. The pyramids at Giza.",
                         "\n\n".join(f"{o['text']} [{n}]." for n, o in enumerate(others, start=1))
                         + f"\n\n{shared['text']} [4].", [*others, shared])
    narrow = SectionDraft("Pyramids at Giza. The pyramids of Giza.",
                          f"{others[0]['text']} [1].\n\n{shared['text']} [2].", [others[0], shared])
    scores = relevance.similarity([broad.about, narrow.about], [f"{shared['title']}. {shared['text']}"])[:, 0]
    assert abs(float(scores[0]) - float(scores[1])) < BALANCE_MARGIN  # about as close to both
    contents, _ = settle_shared_sources(relevance, [broad, narrow])
    assert shared["text"] in contents[1] and shared["text"] not in contents[0]


AMAZON = "The Amazon River in South America is the largest river by discharge volume of water in the world"
ON_MANAUS = "Manaus, the capital of the state of Amazonas, lies where the Rio Negro meets the Amazon"
MANAUS = "Manaus is the largest city of the Brazilian state of Amazonas and a port on the Rio Negro"


def _wiki(title: str, text: str) -> dict:
    return {"id": title, "url": f"https://en.wikipedia.org/wiki/{title.replace(' ', '_')}", "title": title,
            "text": text, "published": None, "score": 0.6}


def test_a_shared_source_gives_each_section_the_part_about_it(relevance):
    """From the quick evals of issue 17: the Amazon report's sections gathered 4-6 sources each and cited 1-2,
    because a shared article printed in one section only. Its sentence on Manaus now goes to "Manaus", while the
    river's own section keeps the article's opening: both sections cite it."""
    from nexa_research.nodes.text.ownership import SectionDraft, settle_shared_sources

    river, city = _wiki("Amazon River", f"{AMAZON}. {ON_MANAUS}."), _wiki("Manaus", f"{MANAUS}.")
    river_section = SectionDraft("Amazon River. The river and its course.", f"{AMAZON} [1]. {ON_MANAUS} [1].", [river])
    city_section = SectionDraft("Manaus. The city of Manaus on the Rio Negro.",
                                f"{MANAUS} [1].\n\n{AMAZON} [2]. {ON_MANAUS} [2].", [city, river])
    contents, removed = settle_shared_sources(relevance, [river_section, city_section])

    assert contents == [f"{AMAZON} [1].", f"{MANAUS} [1].\n\n{ON_MANAUS} [2]."] and removed == 2


def test_a_sentence_opening_on_a_definite_description_travels_with_the_one_before():
    """"The disease was caused by ..." names what the sentence before introduced; printed elsewhere alone it would
    name nothing."""
    from nexa_research.nodes.text.ownership import parts

    assert parts("The Black Death was a plague pandemic [1]. The disease was caused by a bacterium [1]. "
                 "Europe lost half its people [1].") == [
        ["The Black Death was a plague pandemic [1].", "The disease was caused by a bacterium [1]."],
        ["Europe lost half its people [1]."],
    ]


FLEMING = ("Sir Alexander Fleming was a Scottish physician and microbiologist [{n}]. He shared the 1945 Nobel Prize in "
           "Physiology or Medicine with Howard Florey and Ernst Chain for the discovery of penicillin [{n}]. His discovery "
           "in 1928 of what was later named benzylpenicillin from the mould Penicillium rubens has been described as the "
           "single greatest victory ever achieved over disease [{n}].")


def test_a_biographys_sentences_on_a_pronoun_go_written_out_to_the_section_they_are_about(relevance):
    """From the quick evals of the thirteenth session: Fleming's opening is one chain of "He ...", "His ..."
    sentences, so it went whole to the section "Alexander Fleming", and "Discovery of penicillin", which had
    gathered it, was left out with nothing to print. Each sentence whose pronoun stands for the subject is now a
    part of its own: the discovery section prints the Nobel Prize and the 1928 discovery, the first written out."""
    from nexa_research.nodes.text.ownership import SectionDraft, parts, settle_shared_sources

    assert len(parts(FLEMING.format(n=1), relevance)) == 3
    assert len(parts(FLEMING.format(n=1))) == 1  # without a scorer no part is split (nothing to check a restatement)
    fleming = _wiki("Alexander Fleming", FLEMING.format(n=1).replace(" [1]", ""))
    penicillin = _wiki("Penicillin", "Penicillins are a group of antibiotics originally obtained from Penicillium moulds.")
    person = SectionDraft("Alexander Fleming. What the sources say about Alexander Fleming.", FLEMING.format(n=1), [fleming])
    discovery = SectionDraft("Discovery of penicillin. How penicillin was discovered.",
                             "Penicillins are a group of antibiotics originally obtained from Penicillium moulds [1].\n\n"
                             + FLEMING.format(n=2), [penicillin, fleming])
    contents, removed = settle_shared_sources(relevance, [person, discovery])

    assert contents[0] == "Sir Alexander Fleming was a Scottish physician and microbiologist [1]."
    printed = contents[1].split("\n\n")[1]
    assert printed.startswith("Sir Alexander Fleming shared the 1945 Nobel Prize") and "His discovery in 1928" in printed
    assert removed == 3  # the opening from the discovery section, the two others from the person's


def test_a_pronouns_sentence_that_restates_the_definition_stays_with_it(relevance):
    """Written out, "It is a subfield of physics ..." near-copies the definition before it; split off, the two
    would print in two sections as a repetition."""
    from nexa_research.nodes.text.ownership import parts

    text = ("Electronics is a scientific field of physics that studies electrons [1]. It is a subfield of physics "
            "that studies electrons [1].")
    assert len(parts(text, relevance)) == 1


FDR = "Franklin Delano Roosevelt was the 32nd president of the United States, serving from 1933 until his death in 1945"
TRUMAN = "Harry S. Truman was the 33rd president of the United States, serving from 1945 to 1953"


def test_a_section_is_led_by_the_source_it_is_about_and_one_document_cited_twice_is_one_passage(relevance):
    """From the fourteenth session's quick evals (the Great Depression and the New Deal): the section "Harry S.
    Truman" printed Roosevelt's passage first (the writer ranks by the topic too), so it took Roosevelt's opening,
    and Truman's own paragraph cited [1] and [2] (his article found by name and by a query), so it was nobody's
    passage: the section "Franklin D. Roosevelt" printed Truman and "Harry S. Truman" printed Roosevelt."""
    from nexa_research.nodes.text.ownership import SectionDraft, leading_source, settle_shared_sources

    fdr, truman = _wiki("Franklin D. Roosevelt", f"{FDR}."), _wiki("Harry S. Truman", f"{TRUMAN}.")
    truman_excerpt = {**truman, "id": "Truman, by name"}
    about_truman = SectionDraft("Harry S. Truman. What the sources say about Harry S. Truman.",
                                f"{FDR} [1].\n\n{TRUMAN} [2]. He set up the Marshall Plan [3].", [fdr, truman, truman_excerpt])
    assert about_truman.source_of(f"{TRUMAN} [2]. He set up the Marshall Plan [3].") == normalize_url(truman["url"])
    assert leading_source(relevance, about_truman) == normalize_url(truman["url"])
    about_fdr = SectionDraft("Franklin D. Roosevelt. What the sources say about Franklin D. Roosevelt.",
                             f"{FDR} [1].\n\n{TRUMAN} [2].", [fdr, truman])
    contents, _ = settle_shared_sources(relevance, [about_fdr, about_truman])
    assert contents[0] == f"{FDR} [1]."
    assert contents[1].startswith(f"{TRUMAN} [2].") and FDR not in contents[1]


@pytest.mark.parametrize("later_in", [0, 1])
def test_what_the_keeper_of_a_source_does_not_print_stays_where_it_is(relevance, later_in):
    """A source no section is about goes to one section; a sentence of it only the other section printed stays
    there, or the report would not print it at all. Whichever section prints it, it is printed once."""
    from nexa_research.nodes.text.ownership import SectionDraft, settle_shared_sources

    deal = _wiki("New Deal", "The New Deal was a series of reforms in the United States from 1933 to 1938.")
    banks = _wiki("Bank run", "A bank run occurs when many clients withdraw their money from a bank at once.")
    opening = "The Wall Street crash of 1929 was a major stock market crash"
    later = "Thousands of banks failed across the country in the years after the crash"
    crash = _wiki("Wall Street crash of 1929", f"{opening}. {later}.")
    passages = [f"{opening} [2].", f"{opening} [2].\n\n{later} [2]."]  # the later sentence as a part of its own
    if later_in == 0:
        passages.reverse()
    first = SectionDraft("The New Deal. The reforms of Roosevelt's New Deal.",
                         f"{deal['text'][:-1]} [1].\n\n{passages[0]}", [deal, crash])
    second = SectionDraft("Bank runs. Bank runs and panics.", f"{banks['text'][:-1]} [1].\n\n{passages[1]}", [banks, crash])
    contents = " ".join(settle_shared_sources(relevance, [first, second])[0])
    assert contents.count(opening) == 1 and contents.count(later) == 1


WILBERFORCE = "William Wilberforce was a British politician and a leader of the movement to abolish the slave trade"
NATIVE = "A native of Kingston upon Hull, Yorkshire, he began his political career in 1780"
ROBESPIERRE = "Maximilien Robespierre was a French lawyer and statesman of the French Revolution"


def test_a_part_printed_only_outside_the_section_about_its_source_goes_there(relevance):
    """From the held-out evals of the fourteenth session (the Atlantic slave trade): the section on Robespierre
    printed Wilberforce's passage whole, the section on Wilberforce his opening sentence only; settling gave the
    opening to Wilberforce's section and left the rest of his biography under Robespierre. It now follows the
    opening, written out and cited by the number the section gives the source, when that section holds the passage
    that says it."""
    from nexa_research.nodes.text.ownership import SectionDraft, settle_shared_sources

    wilberforce = _wiki("William Wilberforce", f"{WILBERFORCE}. {NATIVE}.")
    robespierre = _wiki("Maximilien Robespierre", f"{ROBESPIERRE}.")
    about_him = SectionDraft("William Wilberforce's contribution. What William Wilberforce did against the slave trade.",
                             f"{WILBERFORCE} [1].", [wilberforce])
    about_robespierre = SectionDraft("Maximilien Robespierre. What the sources say about Maximilien Robespierre.",
                                     f"{ROBESPIERRE} [1].\n\n{WILBERFORCE} [2]. {NATIVE} [2].", [robespierre, wilberforce])
    contents, removed = settle_shared_sources(relevance, [about_him, about_robespierre])
    written_out = "A native of Kingston upon Hull, Yorkshire, William Wilberforce began his political career in 1780 [1]."
    assert contents == [f"{WILBERFORCE} [1]. {written_out}", f"{ROBESPIERRE} [1]."] and removed == 1  # one moved

    # a section that holds only the sentence naming the subject (an excerpt) cannot cite the rest: it stays
    excerpt = {**wilberforce, "id": "Wilberforce, by name", "text": f"{WILBERFORCE}.", "focus": f"{WILBERFORCE}."}
    about_him = SectionDraft(about_him.about, f"{WILBERFORCE} [1].", [excerpt])
    contents, _ = settle_shared_sources(relevance, [about_him, about_robespierre])
    assert contents == [f"{WILBERFORCE} [1].", f"{ROBESPIERRE} [1].\n\n{written_out.replace('[1]', '[2]')}"]


def test_a_part_about_the_section_it_is_in_stays_there(relevance):
    """The other side of the move: Roosevelt's sentence on combating the Great Depression, printed only in the
    section on the New Deal, serves that section (a section draws on several sources), though the section on
    Roosevelt is about its source."""
    from nexa_research.nodes.text.ownership import SectionDraft, settle_shared_sources

    terms = "His first two terms were centered on combating the Great Depression"
    fdr = _wiki("Franklin D. Roosevelt", f"{FDR}. {terms}.")
    deal = _wiki("New Deal", "The New Deal was a series of programs and reforms enacted in the United States from 1933.")
    about_fdr = SectionDraft("Franklin D. Roosevelt. What the sources say about Franklin D. Roosevelt.", f"{FDR} [1].", [fdr])
    about_deal = SectionDraft("The New Deal. The programs of the New Deal against the Great Depression.",
                              f"{deal['text'][:-1]} [1].\n\n{FDR} [2]. {terms} [2].", [deal, fdr])
    contents, _ = settle_shared_sources(relevance, [about_fdr, about_deal])
    written_out = "Franklin Delano Roosevelt's first two terms were centered on combating the Great Depression [2]."
    assert contents == [f"{FDR} [1].", f"{deal['text'][:-1]} [1].\n\n{written_out}"]
