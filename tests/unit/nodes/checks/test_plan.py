"""Plans and the relevance gate checked in code: titles that name a subject, and a run's on-topic cut-off held
close to the best article the corpus has on the topic."""

from __future__ import annotations

import pytest

from nexa_research.nodes.checks.plan import as_heading, generic_title
from nexa_research.nodes.checks.relevance import RAISED_CUT_CAP, RELATIVE_MARGIN, gate_sources, topic_cutoff
from nexa_research.providers.relevance import LexicalRelevance
from nexa_research.state import new_paragraph


def test_report_title_falls_back_to_the_topic_when_the_model_garbles_it():
    from nexa_research.nodes.checks.plan import report_title

    topic = "how the steam engine changed industry and transport"
    assert report_title("The Steam Engine Change Industry", topic, ["Steam turbine"]) == (
        "How the steam engine changed industry and transport"
    )
    assert report_title("The Steam Engine and Industry", topic, ["Steam turbine"]) == "The Steam Engine and Industry"


async def test_a_title_restating_the_whole_topic_is_replanned():
    from nexa_research.nodes.checks.plan import PlannedSection, plan_problems
    from nexa_research.providers.relevance import LexicalRelevance

    topic = "How the steam engine changed industry and transport"
    sections = [PlannedSection("What is the steam engine?", "o", ["q"]),
                PlannedSection("How the steam engine changed industry and transport", "o", ["q"]),
                PlannedSection("James Watt's separate condenser", "o", ["q"])]
    problems, good = await plan_problems(sections, LexicalRelevance(), 3, 5, topic=topic)
    assert good == [2]  # a question is not a heading either (next test)
    assert len(problems) == 2 and "restates the whole topic" in problems[1]


async def test_a_title_in_another_script_than_the_topics_is_replanned():
    """From the quick evals: the 0.5B planner titled a section "Penicillin作用", and the summary printed it."""
    from nexa_research.nodes.checks.plan import PlannedSection, plan_problems
    from nexa_research.providers.relevance import LexicalRelevance

    topic = "The discovery of penicillin and the rise of antibiotics"
    sections = [PlannedSection("Penicillin作用", "o", ["q"]), PlannedSection("Alexander Fleming", "o", ["q"])]
    problems, good = await plan_problems(sections, LexicalRelevance(), 1, 5, topic=topic)
    assert good == [1] and "another script" in problems[0]
    accents = [PlannedSection("Édouard Manet and Paul Cézanne", "o", ["q"])]  # Latin letters with accents are fine
    assert (await plan_problems(accents, LexicalRelevance(), 1, 5, topic="Impressionism in French painting"))[1] == [0]


def test_a_question_is_not_a_section_title():
    """From a `make run` on the Panama Canal: "What are the key questions to answer about the Panama Canal?" was
    printed as section 1 after it came back from the spare sections."""
    from nexa_research.nodes.checks.plan import PlannedSection, fallback_sections

    assert generic_title("What are the key questions to answer about the Panama Canal?")
    assert generic_title("What is the steam engine?")
    assert generic_title("The Panama Canal is an artificial 82-kilometer (51-mile) waterway in Panama that connects the")
    assert not generic_title("Locks, dams and Gatun Lake in the building of the Panama Canal")
    spare = [PlannedSection("What are the key questions to answer about the Panama Canal?", "o", ["q"]),
             PlannedSection("The locks and Gatun Lake", "o", ["q"])]
    assert [s.title for s in fallback_sections([], [], "How the Panama Canal was built", 2, spare)] == ["The locks and Gatun Lake"]


def test_a_thin_corpus_still_gets_a_plan_from_the_spare_sections():
    from nexa_research.nodes.checks.plan import PlannedSection, fallback_sections

    article = {"id": "1", "url": "u", "title": "Black Death", "text": "t", "published": None, "score": 0.9}
    spare = [PlannedSection("Conclusion", "o", ["q"]), PlannedSection("Spread along trade routes", "o", ["q"]),
             PlannedSection("Black death", "o", ["q"]), PlannedSection("Flagellants and persecutions", "o", ["q"])]
    titles = [s.title for s in fallback_sections([], [article], "The Black Death", 3, spare)]
    assert titles == ["Black Death", "Spread along trade routes", "Flagellants and persecutions"]
    # the model's section that is the whole topic again never fills a gap
    restated = [PlannedSection("The Black Death", "o", ["q"]), PlannedSection("Flagellants and persecutions", "o", ["q"])]
    assert [s.title for s in fallback_sections([], [], "The Black Death", 3, restated)] == ["Flagellants and persecutions"]


def test_titles_made_only_of_vague_words_are_generic():
    for title in ("Causes", "Effects", "Implications", "Causes and effects", "The impact", "Main factors"):
        assert generic_title(title), title
    for title in ("Causes of the Black Death", "Impact on European trade", "James Watt's separate condenser"):
        assert not generic_title(title), title


def test_titles_listing_what_the_report_covers_are_generic():
    """From the eval's coral reef plan, which printed both as sections."""
    for title in ("Main topics covered", "Key areas covered by each section", "Key points", "Questions covered",
                  "Example questions", "Additional Information", "Further reading"):
        assert generic_title(title), title
    for title in ("Areas of the Great Barrier Reef covered by marine parks", "Key trade routes", "Information Age"):
        assert not generic_title(title), title


def test_the_on_topic_cut_off_follows_the_best_survey_article():
    relevance = LexicalRelevance()
    floor = relevance.thresholds.on_topic
    assert topic_cutoff(relevance, None) == floor
    assert topic_cutoff(relevance, floor + 0.05) == floor  # a thinly covered topic keeps the calibrated floor
    assert abs(topic_cutoff(relevance, 0.62) - (0.62 - RELATIVE_MARGIN)) < 1e-9
    assert topic_cutoff(relevance, 0.77) == RAISED_CUT_CAP  # never so high that a well-covered topic loses its neighbours
    assert topic_cutoff(relevance, 0.69, min_relevance=0.1) == 0.1  # the caller's own cut-off wins


GATE_TOPIC = "black death plague europe"
GATE_SECTION = new_paragraph(0, "Black death plague", "plague in europe", ["q"])


def _passage(url: str, title: str, text: str) -> dict:
    return {"id": url, "url": url, "title": title, "text": text, "published": None, "score": 0.0}


def test_the_gate_drops_what_passes_the_floor_but_not_the_runs_cut_off():
    relevance, topic, paragraph = LexicalRelevance(), GATE_TOPIC, GATE_SECTION
    close = _passage("u1", "Black Death", "black death plague europe pandemic")
    loose = _passage("u2", "Black", "black colour plague")
    scores = relevance.similarity([topic], ["Black Death. " + close["text"], "Black. " + loose["text"]])[0]
    cut = float(scores[1]) + 0.01  # between the two
    assert len(gate_sources(relevance, topic, paragraph, [close, loose]).kept) == 2
    kept = gate_sources(relevance, topic, paragraph, [close, loose], topic_cut=cut).kept
    assert [s["url"] for s in kept] == ["u1"]


def test_the_gate_keeps_to_the_subject_unless_the_caller_set_the_cut_off():
    from nexa_research.nodes.checks.subject import TopicSubject

    relevance, topic, paragraph = LexicalRelevance(), GATE_TOPIC, GATE_SECTION
    close = _passage("u1", "Black Death", "black death plague europe pandemic")
    other = _passage("u2", "Plague of Justinian", "plague europe pandemic")
    subject = TopicSubject.from_survey(topic, [(close, 0.8)])
    assert [s["url"] for s in gate_sources(relevance, topic, paragraph, [close, other], subject=subject).kept] == ["u1"]
    kept = gate_sources(relevance, topic, paragraph, [close, other], subject=subject, min_relevance=-1.0).kept
    assert len(kept) == 2  # `min_relevance` replaces the whole judgement (tests over tiny corpora rely on it)


def test_the_sections_of_a_users_own_document_are_not_neighbours_of_the_subject():
    from nexa_research.nodes.checks.subject import TopicSubject

    best = _passage("file:///m/routine-vacuuming.html#SPACE", "Routine Vacuuming › Recovering Disk Space",
                    "an update leaves the old row version behind until vacuum removes it")
    command = _passage("file:///m/sql-vacuum.html#NOTES", "VACUUM › Notes", "to vacuum a table one must own it")
    encyclopedia = _passage("https://en.wikipedia.org/wiki/Plague_of_Justinian", "Plague of Justinian", "plague europe pandemic")
    subject = TopicSubject.from_survey("How does PostgreSQL reclaim the space of dead rows?", [(best, 0.74)])
    assert subject.covers(command) and not subject.covers(encyclopedia)


def test_a_vague_title_gets_the_topic_as_its_subject():
    from nexa_research.nodes.checks.plan import PlannedSection, with_subject

    def titled(title: str, topic: str) -> str:
        return with_subject(PlannedSection(title, "o", ["q"]), topic).title

    assert titled("Causes", "The Black Death in fourteenth-century Europe") == (
        "Causes of the Black Death in fourteenth-century Europe"
    )
    assert titled("Effects", "How the steam engine changed transport") == "Effects: How the steam engine changed transport"
    assert titled("Conclusion", "The Black Death") == "Conclusion"  # a part of a report, not an angle: rejected later
    assert titled("Spread along trade routes", "The Black Death") == "Spread along trade routes"
    # an adjective alone has no noun for the topic to complete: "Historical of the Crusades ..." was printed as a
    # section title; it stays vague and the plan check refuses it
    from nexa_research.nodes.checks.plan import generic_title

    assert titled("Historical", "The Crusades and the struggle for the Holy Land") == "Historical"
    assert generic_title("Historical") and generic_title("Key")
    assert titled("Historical causes", "The Crusades") == "Historical causes of the Crusades"


def test_titles_about_the_report_itself_are_generic():
    for title in ("Sections", "Main topic", "Key sections", "Description", "Notes", "Synopsis and parameters"):
        assert generic_title(title), title
    assert not generic_title("VACUUM: Description")  # the page's subject is named
    assert not generic_title("Sections of the Roman army")  # a subject is named


async def test_sections_that_add_an_angle_to_the_whole_topic_are_kept_apart():
    """From an eval run: every plan for the Black Death and for penicillin was rejected because "Causes of <topic>"
    counted as restating the topic and as a duplicate of "Impact of <topic>", and "Penicillin Discovery" as the
    whole of "The discovery of penicillin and the rise of antibiotics"."""
    from nexa_research.nodes.checks.plan import PlannedSection, duplicate_pairs, plan_problems, restated_topic

    relevance = LexicalRelevance()
    topic = "The Black Death in fourteenth-century Europe"
    angles = ["Causes of the Black Death in fourteenth-century Europe", "Impact of the Black Death in fourteenth-century Europe",
              "Religious responses in fourteenth-century Europe"]
    assert restated_topic(topic, angles) == []
    assert duplicate_pairs(relevance, angles, topic) == []
    problems, good = await plan_problems([PlannedSection(t, "o", ["q"]) for t in angles], relevance, 3, 5, topic=topic)
    assert problems == [] and good == [0, 1, 2]

    penicillin = "The discovery of penicillin and the rise of antibiotics"
    assert restated_topic(penicillin, ["Penicillin Discovery", "Antibiotics Rise"]) == []
    assert restated_topic(penicillin, ["How was penicillin discovered and how did antibiotics rise?"]) == [0]
    # the model repeating a title word for word is still a duplicate, with or without the topic
    assert duplicate_pairs(relevance, ["Penicillin Discovery", "Antibiotics Rise", "Penicillin discovery"], penicillin) == [(0, 2)]
    assert duplicate_pairs(relevance, ["Causes of the plague", "The causes of the plague"]) == [(0, 1)]


def test_titles_sharing_one_topic_word_are_compared_as_wholes():
    """From the 1.5B eval report on jazz: "History of Jazz" and "The Legacy of Jazz" passed because only what
    each adds to the topic was compared; a one-word shared subject does not drown their likeness."""
    from nexa_research.nodes.checks.plan import duplicate_pairs
    from nexa_research.providers.kb.embeddings import default_embedder
    from nexa_research.providers.relevance import EmbeddingRelevance

    relevance = EmbeddingRelevance(default_embedder())
    topic = "The origins and development of jazz"
    titles = ["History of Jazz", "Bebop and the 1940s", "The Legacy of Jazz"]
    assert (0, 2) in duplicate_pairs(relevance, titles, topic)
    black_death = "The Black Death in fourteenth-century Europe"
    angles = ["Causes of the Black Death in fourteenth-century Europe", "Impact of the Black Death in fourteenth-century Europe"]
    assert duplicate_pairs(relevance, angles, black_death) == []


def test_a_framing_verb_sets_no_title_apart():
    """A PostgreSQL documents report planned "Understanding Transaction Isolation Levels", "Implementing ..." and
    "Reason for Different Levels of Transaction Isolation": 60 passages were repeated across its sections."""
    from nexa_research.nodes.checks.plan import duplicate_pairs
    from nexa_research.providers.kb.embeddings import default_embedder
    from nexa_research.providers.relevance import EmbeddingRelevance

    relevance = EmbeddingRelevance(default_embedder())
    topic = "How do the transaction isolation levels of PostgreSQL differ?"
    titles = ["Understanding Transaction Isolation Levels", "Implementing Transaction Isolation Levels",
              "Serializable Isolation Level"]
    assert (0, 1) in duplicate_pairs(relevance, titles, topic)
    assert duplicate_pairs(relevance, titles[1:], topic) == []


def test_angles_the_topic_names_itself_are_not_one_section():
    """From `make run` on the Thirty Years' War: "Causes of ..." and "Consequences of ..." were one duplicate pair
    (0.8+ as wholes), because the words that set them apart are the topic's own; they are 0.48 apart."""
    from nexa_research.nodes.checks.plan import duplicate_pairs
    from nexa_research.providers.kb.embeddings import default_embedder
    from nexa_research.providers.relevance import EmbeddingRelevance

    relevance = EmbeddingRelevance(default_embedder())
    topic = "The causes and consequences of the Thirty Years' War"
    assert duplicate_pairs(relevance, ["Causes of the Thirty Years' War", "Consequences of the Thirty Years' War"], topic) == []
    # the same angle twice is still one
    titles = ["Causes of the Thirty Years' War", "The causes of the Thirty Years' War"]
    assert duplicate_pairs(relevance, titles, topic) == [(0, 1)]


def test_a_subject_and_its_role_in_the_topic_are_one_section():
    """An Ottoman plan held "Selim III's Role in Ottoman Empire" beside "Selim III"; "Economic causes" and "Economic
    impact" add different angles and stay two."""
    from nexa_research.nodes.checks.plan import duplicate_pairs

    topic = "The rise and fall of the Ottoman Empire"
    titles = ["Selim III's Role in Ottoman Empire", "Selim III", "Economic causes", "Economic impact", "Janissaries"]
    assert duplicate_pairs(LexicalRelevance(), titles, topic) == [(0, 1)]
    assert duplicate_pairs(None, titles, topic) == [(0, 1)]


def _article(title: str, text: str = "") -> dict:
    return {"id": title, "url": "https://en.wikipedia.org/wiki/" + title.replace(" ", "_"), "title": title,
            "text": text or f"{title} is an article.", "published": None, "score": 0.0}


def test_the_subject_keeps_the_topics_articles_and_leaves_out_neighbours_of_the_same_kind():
    """Scores as the offline corpus gives them for the printing press and the Amazon (nodes/checks/subject.py)."""
    from nexa_research.nodes.checks.subject import TopicSubject

    press = TopicSubject.from_survey("The history of the printing press", [
        (_article("Printing press"), 0.70), (_article("Printing"), 0.69), (_article("Johannes Gutenberg"), 0.63),
        (_article("History of communication", "Writing was a major innovation, as was printing."), 0.48),
        (_article("Photocopier", "A photocopier makes copies of documents."), 0.47),
        (_article("Printmaking", "Printmaking is creating artworks by printing."), 0.46),
        (_article("Gutenberg Bible", "The first major book printed with a printing press in Europe."), 0.37),
    ])
    kept = [t for t in ("Printing press", "Printing", "Johannes Gutenberg", "History of communication", "Photocopier",
                        "Printmaking", "Gutenberg Bible") if press.covers(_article(t, "" if t != "Gutenberg Bible" else
                        "The first major book printed with a printing press in Europe."))]
    assert kept == ["Printing press", "Printing", "Johannes Gutenberg", "Gutenberg Bible"]

    amazon = TopicSubject.from_survey("The Amazon River and its rainforest", [
        (_article("Amazon River"), 0.74), (_article("Amazon rainforest"), 0.70), (_article("Rio Negro (Amazon)"), 0.65),
    ])
    assert not amazon.covers(_article("Congolian rainforests", "The Congolian rainforests stretch across Africa."))
    assert amazon.covers(_article("Manaus", "Manaus lies where the Rio Negro meets the Amazon River."))
    assert amazon.covers(_article("Rainforest", "Rainforests are forests with heavy rain."))  # the topic's own word

    assert not amazon.covers(_article("Niger River", "The Niger is the main river of West Africa."))
    assert amazon.covers(_article("Belém", "Belém is a port near the mouth of the Amazon Rivers."))  # plural allowed

    pills = TopicSubject.from_survey("The discovery of penicillin and the rise of antibiotics", [(_article("Alexander Fleming"), 0.62)])
    assert pills.covers(_article("Antibiotic", "Antibiotics fight bacterial infections."))  # plural, same word
    assert TopicSubject.from_survey("anything", []).covers(_article("Photocopier"))  # nothing surveyed: no judgement

    # the topic's own phrases name it too, and the subject survives the trip through the run's state
    again = TopicSubject.from_dict(press.as_dict())
    assert again is not None and "printing press" in again.names
    assert again.covers(_article("Letterpress", "In Europe the printing-press changed how books were made."))
    assert not again.covers(_article("Photocopier", "A photocopier makes copies of documents."))


def test_a_small_planners_titles_are_repaired_into_headings_where_that_is_mechanical():
    """Titles the 0.5B model wrote in the eval: "what" questions, and a sentence glued on after a colon."""
    from nexa_research.nodes.checks.plan import as_heading

    assert as_heading("What are the reasons for the failure of the French Revolution?") == "Reasons for the failure of the French Revolution"
    assert as_heading("What is the French Revolution?") == "French Revolution"
    assert as_heading("Western Roman Empire: The Roman Empire was a state that dominated the Mediterranean and much of Europe") == "Western Roman Empire"
    assert as_heading("The History of the Decline and Fall of the Roman Empire: Sometimes shortened to Decline and Fall.") == "The History of the Decline and Fall of the Roman Empire"
    assert as_heading("Causes: debt and famine") == "Causes: debt and famine"  # a subtitle is a heading
    assert as_heading("Why did the French Revolution begin?") == "Why did the French Revolution begin?"  # still rejected
    assert generic_title(as_heading("Why did the French Revolution begin?"))
    # "Overview" around a named subject (eight of them in one 0.5B run on the Mongol Empire)
    assert as_heading("Batu Khan Overview") == "Batu Khan"
    assert as_heading("Overview of the Mongol Empire") == "Mongol Empire"
    assert as_heading("Mongol Conquests - Overview") == "Mongol Conquests"
    assert generic_title(as_heading("Overview"))
    # words about the document before their subject (a 0.5B plan on the American Civil War and slavery)
    assert as_heading("Some of the key questions about slavery") == "Slavery"
    assert as_heading("Key points on the Meiji Restoration") == "Meiji Restoration"
    assert as_heading("Debates about slavery") == "Debates about slavery"  # a subject's own angle stays
    assert as_heading("Effects of the war on trade") == "Effects of the war on trade"


def test_a_fallback_never_adds_a_section_an_earlier_one_covers():
    """From the eval's printing press report: two model sections on the press, then the article "Printing press"."""
    from nexa_research.nodes.checks.plan import PlannedSection, fallback_sections
    from nexa_research.providers.kb.embeddings import default_embedder
    from nexa_research.providers.relevance import EmbeddingRelevance

    keep = [PlannedSection("Printing Press Components", "o", ["q"]), PlannedSection("Gutenberg's movable type", "o", ["q"])]
    articles = [_article("Printing press"), _article("Printing")]
    titles = [s.title for s in fallback_sections(keep, articles, "The history of the printing press", 4, [],
                                                 EmbeddingRelevance(default_embedder()))]
    assert titles[:2] == ["Printing Press Components", "Gutenberg's movable type"] and "Printing press" not in titles
    assert generic_title("Smallpox: Definition") and generic_title("Definition")  # from the eval's plans


@pytest.mark.parametrize(("topic", "parts"), [
    ("The invention and spread of the printing press", ["Invention of the printing press", "Spread of the printing press"]),
    ("Causes, course and consequences of the Thirty Years War",
     ["Causes of the Thirty Years War", "Course of the Thirty Years War", "Consequences of the Thirty Years War"]),
    ("The discovery of penicillin and the rise of antibiotics", ["Discovery of penicillin", "Rise of antibiotics"]),
    ("Photosynthesis and cellular respiration", ["Photosynthesis", "Cellular respiration"]),
    ("Trade and culture on the Silk Road", ["Trade on the Silk Road", "Culture on the Silk Road"]),
    ("Charles Darwin and the theory of evolution", ["Charles Darwin", "Theory of evolution"]),
    ("The invention of the transistor and the integrated circuit", ["Invention of the transistor", "Integrated circuit"]),
    # one thing, a question, a subject holding "and", a pronoun: not split
    ("The causes of the First World War", []),
    ("How the Black Death changed European society and economy", []),
    ("The history of rhythm and blues", []),
    ("The printing press and its effect on Europe", []),
])
def test_the_parts_a_topic_names_itself(topic, parts):
    from nexa_research.nodes.checks.topic_parts import topic_parts

    assert topic_parts(topic) == parts


def test_a_part_the_topic_names_is_not_a_restatement_of_it():
    from nexa_research.nodes.checks.plan import restated_topic

    topic = "The invention and spread of the printing press"
    assert restated_topic(topic, ["Spread of the printing press", "Invention and spread of the printing press"]) == [1]
    # a part named through a pronoun ("their modern revival"): rejected as the whole topic in a reader check's plan
    olympics = "The ancient Olympic Games and their modern revival"
    assert restated_topic(olympics, ["Olympic Games: Modern Revival", "The Ancient Olympic Games and Their Revival",
                                     "Ancient Olympic Games: Modern Revival"]) == [1, 2]


def test_a_section_of_a_document_is_titled_by_its_heading_not_its_path():
    from nexa_research.nodes.checks.plan import section_title

    assert section_title("Glossary › Isolation") == "Isolation"
    assert section_title("Routine Vacuuming › Recovering Disk Space") == "Recovering Disk Space"
    assert section_title("VACUUM › Notes") == "VACUUM: Notes"
    assert section_title("Black Death") == "Black Death"


def test_a_model_that_copies_a_documents_title_path_gets_its_last_heading():
    from nexa_research.nodes.planner import clean_title

    assert clean_title("Interfacing Extensions to Indexes › Index Methods and Operator Classes") == "Index Methods and Operator Classes"
    assert clean_title("Section 2: Design") == "Design"


def test_a_part_word_goes_from_a_title_whose_other_words_the_topic_names():
    topic = "The discovery of penicillin and the rise of antibiotics"
    assert as_heading("Antibiotics Section", topic) == "Antibiotics"  # a 0.5B plan's title
    assert as_heading("Section: Penicillin", topic) == "Penicillin"
    assert as_heading("Brass Section", "Orchestras of the nineteenth century") == "Brass Section"  # a subject
    assert as_heading("Part II", topic) == "Part II"  # nothing left to name: the generic check rejects it


def test_a_trailing_colon_goes_from_a_title():
    assert as_heading("Write-Ahead Logging (WAL):") == "Write-Ahead Logging (WAL)"
