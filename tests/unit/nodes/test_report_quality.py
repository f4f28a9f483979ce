"""Report quality in code: relevance gate, plans checked against the corpus, extractive sections, report-wide
de-duplication and the editor's text checked sentence by sentence. Scripted models, real MiniLM relevance."""

from __future__ import annotations

import json
import re

import pytest

from nexa_research import PlanningError, aresearch
from nexa_research.providers import InMemorySearch, StaticProviders
from nexa_research.providers.kb.embeddings import default_embedder
from nexa_research.providers.relevance import EmbeddingRelevance
from support.scripted_models import ScriptedChatModel, field, human_text, query_writer, reflection_always

TOPIC = "The Black Death in medieval Europe"
WIKI = "https://en.wikipedia.org/wiki/"
CORPUS = [
    {"url": WIKI + "Black_Death", "title": "Black Death",
     "text": "The Black Death was a bubonic plague pandemic that struck Europe from 1346 to 1353. It killed up to "
             "half of the population of Europe. The disease was caused by the bacterium Yersinia pestis, spread "
             "by fleas on rats."},
    {"url": WIKI + "Bubonic_plague", "title": "Bubonic plague",
     "text": "Bubonic plague is an infection caused by the bacterium Yersinia pestis. Swollen lymph nodes called "
             "buboes are its best known symptom. The plague reached medieval European ports on merchant ships "
             "from the Black Sea."},
    {"url": WIKI + "Serfdom", "title": "Serfdom",
     "text": "After the Black Death killed so many peasants, labour became scarce across medieval Europe. Surviving "
             "workers demanded higher wages, and serfdom declined in Western Europe. Landlords could no longer "
             "hold peasants to the manor."},
    {"url": WIKI + "Flagellants", "title": "Flagellants",
     "text": "Flagellants were religious groups of medieval Europe who whipped themselves in public. Their "
             "processions grew during the Black Death (Greek: μαστιγωτής), when many believed the plague was a "
             "punishment from God."},
    {"url": WIKI + "Transistor", "title": "Transistor",
     "text": "A transistor is a semiconductor device used to amplify or switch electrical signals. It was invented "
             "at Bell Labs in 1947. Transistors are the building blocks of modern computer chips."},
    {"url": WIKI + "Baseball", "title": "Baseball",
     "text": "Baseball is a bat-and-ball sport played between two teams of nine players. The plague of injuries "
             "in the major leagues changed training in Europe and America."},
]
OFF_TOPIC = {WIKI + "Transistor", WIKI + "Baseball"}
SECTIONS = [
    ("Spread of the plague", "How the plague reached Europe and spread.", ["How did the plague reach Europe?", "What caused it?"]),
    ("Labour shortages and the end of serfdom", "How the deaths changed work and wages.", ["What happened to wages?", "What happened to serfdom?"]),
    ("Religious responses", "How people explained the plague through religion.", ["Who were the flagellants?", "Why did they march?"]),
]


@pytest.fixture(scope="module")
def relevance():
    return EmbeddingRelevance(default_embedder())


def plan(sections, title="The Black Death") -> str:
    return json.dumps({"title": title, "paragraphs": [
        {"title": t, "outline": o, "questions": q} for t, o, q in sections]})


def editor(summary: str, conclusion: str) -> ScriptedChatModel:
    def respond(messages):
        count = int(human_text(messages).split(" transitions")[0].rsplit(" ", 1)[-1])
        return json.dumps({
            "executive_summary": summary,
            "introduction": "This report looks at how the Black Death affected medieval Europe.",
            "transitions": [""] * count,
            "conclusion": conclusion,
        })

    return ScriptedChatModel(respond=respond, name_="collator-fake")


def lead_writer() -> ScriptedChatModel:
    """Writes a supported lead for the plague section, an invented one elsewhere."""

    def respond(messages):
        if field(messages, "Section") == "Spread of the plague":
            return "The Black Death was a plague pandemic that struck Europe between 1346 and 1353."
        return "Aliens from Mars arrived in Paris and built railways everywhere."

    return ScriptedChatModel(respond=respond, name_="lead-fake")


def providers(relevance, planner, *, collator=None, synthesizer=None, corpus=CORPUS):
    return StaticProviders(
        chat={
            "planner": planner,
            "query_writer": query_writer(),
            "reflection": reflection_always(sufficient=True),
            "synthesizer": synthesizer or lead_writer(),
            "collator": collator or editor("The Black Death killed up to half of Europe.", "Labour became scarce."),
        },
        search=InMemorySearch(corpus),
        relevance=relevance,
    )


@pytest.fixture(autouse=True)
def no_checkpoints(monkeypatch):
    monkeypatch.setenv("NEXA_CHECKPOINTER", "none")


async def run(p, **knobs):
    return await aresearch(TOPIC, providers=p, use_cache=False, max_iterations=1, min_sections=3, max_sections=3, **knobs)


async def test_off_topic_sources_never_reach_the_report(relevance):
    planner = ScriptedChatModel(respond=lambda m: plan(SECTIONS))
    report = await run(providers(relevance, planner))

    cited = {e.url for e in report.bibliography}
    assert cited and not cited & OFF_TOPIC
    assert all(s.status == "done" for s in report.sections)
    text = report.to_markdown()
    assert "transistor" not in text.lower() and "baseball" not in text.lower()


async def test_sections_are_source_sentences_cited_to_their_source(relevance):
    planner = ScriptedChatModel(respond=lambda m: plan(SECTIONS))
    report = await run(providers(relevance, planner))
    passages = {e.number: " ".join(e.passages) for e in report.bibliography}

    labour = report.sections[1].content
    up_front = f"{report.executive_summary} {report.introduction} {report.conclusion}"
    # in its section, or moved up front as a finding (a section of two sentences gives one as a last resort)
    assert "Surviving workers demanded higher wages, and serfdom declined in Western Europe" in labour + up_front
    for section in report.sections:
        for sentence in section.content.replace("\n\n", " ").split("]. "):
            if "[" not in sentence:
                continue
            body, number = sentence.rsplit(" [", 1)
            number = int(number.rstrip("]."))
            assert body.split(". ")[-1][:40] in passages[number] or section.index == 0
    # the pronoun sentence keeps its subject: "It killed..." only after the sentence that names the Black Death
    plague = report.sections[0].content
    if "It killed up to half" in plague:
        assert plague.index("The Black Death was a bubonic plague") < plague.index("It killed up to half")
    # another script and its parentheses never reach the page
    assert "μ" not in report.to_markdown() and "(Greek" not in report.to_markdown()


async def test_a_lead_is_kept_only_when_the_sources_support_it(relevance):
    planner = ScriptedChatModel(respond=lambda m: plan(SECTIONS))
    report = await run(providers(relevance, planner))

    assert "Aliens" not in report.to_markdown()
    assert report.sections[1].unsupported_removed >= 1


async def test_generic_and_unsupported_sections_are_replanned_with_the_reason(relevance):
    bad = [("Introduction", "What the report covers.", ["What is it?", "Why study it?"]),
           ("Black Death in the American colonies", "The plague in colonial America's computer industry.",
            ["What chips were built?", "Which transistor companies?"]),
           *SECTIONS[1:]]
    answers = iter([plan(bad), plan(SECTIONS)])
    planner = ScriptedChatModel(respond=lambda m: next(answers))
    report = await run(providers(relevance, planner))

    feedback = str(planner.calls[1][-1].content)
    assert "'Introduction' is generic" in feedback
    assert [s.title for s in report.sections] == [t for t, _, _ in SECTIONS]


async def test_duplicate_sections_are_replanned(relevance):
    dup = [SECTIONS[0], ("The plague's spread", "How the plague reached Europe and spread.", ["How did it spread?", "Where?"]), SECTIONS[2]]
    answers = iter([plan(dup), plan(SECTIONS)])
    planner = ScriptedChatModel(respond=lambda m: next(answers))
    await run(providers(relevance, planner))

    assert "cover the same thing" in str(planner.calls[1][-1].content)


async def test_good_sections_of_failed_attempts_are_pooled_into_a_plan(relevance):
    """From the eval on the 0.5B model: each plan had one bad section (the topic restated, "Introduction") and was
    rejected whole, three times, so the report was built from article titles. The good sections of two attempts
    make a plan, and no third attempt is asked for."""
    intro = ("Introduction", "What the report is about.", ["What is it about?", "Why study it?"])
    first = [SECTIONS[0], intro, SECTIONS[1]]
    second = [("How the plague spread", "How the plague reached Europe and spread.", ["How did it spread?", "Where?"]),
              intro, SECTIONS[2]]
    answers = iter([plan(first), plan(second)])
    planner = ScriptedChatModel(respond=lambda m: next(answers))
    report = await run(providers(relevance, planner))

    assert len(planner.calls) == 2
    # the second attempt's first section says what the first attempt's first one says: pooled once
    assert [s.title for s in report.sections] == [t for t, _, _ in SECTIONS]


async def test_a_planner_that_never_complies_gets_sections_from_the_corpus(relevance):
    generic = [("Introduction", "What the report is about.", ["What is it about?", "Why study it?"]),
               ("Overview", "A broad look at everything.", ["What happened?", "How did it go?"]),
               ("Conclusion", "What it all adds up to.", ["So what follows?", "What comes next?"])]
    planner = ScriptedChatModel(respond=lambda m: plan(generic))
    report = await run(providers(relevance, planner))

    titles = [s.title for s in report.sections]
    # a section whose every sentence an earlier one already printed is left out, and the metadata says so
    left_out = [w.split("'")[1] for w in report.metadata.warnings if "was left out" in w]
    assert len(titles) + len(left_out) == 3 and not {"Introduction", "Overview", "Conclusion"} & set(titles)
    assert set(titles) | set(left_out) <= {"Black Death", "Bubonic plague", "Serfdom", "Flagellants"}
    assert all(s.status == "done" for s in report.sections)
    assert "Articles the knowledge base has" in human_text(planner.calls[0]) and "- Black Death:" in human_text(planner.calls[0])


async def test_a_neighbouring_article_of_the_same_kind_never_becomes_a_fallback_section(relevance):
    """From the Amazon report: "Congolian rainforests" passed the on-topic cut-off and was printed as a section
    when no plan was acceptable. Here another plague (0.48 against 0.76 for Black Death, never naming it) would be
    the third section; parts of the topic that name it (Flagellants, in the next test) still qualify."""
    justinian = {"url": WIKI + "Plague_of_Justinian", "title": "Plague of Justinian",
                 "text": "The Plague of Justinian was a pandemic of plague in the Byzantine Empire and the port cities "
                         "of Europe from 541 to 549. It killed many people across the medieval Mediterranean."}
    generic = [("Introduction", "What the report is about.", ["What is it about?", "Why study it?"])] * 3
    planner = ScriptedChatModel(respond=lambda m: plan(generic))
    corpus = [*(d for d in CORPUS if d["title"] != "Flagellants"), justinian]
    report = await run(providers(relevance, planner, corpus=corpus))

    shown = human_text(planner.calls[0])
    assert "- Serfdom:" in shown and "Justinian" not in shown  # not offered to the planner either
    titles = [s.title for s in report.sections]
    assert titles and set(titles) <= {"Black Death", "Serfdom"}


async def test_a_section_on_a_neighbouring_article_is_replanned(relevance):
    """From `make run` on the printing press: the planner was shown Photocopier and made it a section. A section
    whose best source is a neighbour that never names the subject is unsupported, and the planner is told so."""
    justinian = {"url": WIKI + "Plague_of_Justinian", "title": "Plague of Justinian",
                 "text": "The Plague of Justinian was a pandemic of plague in the Byzantine Empire and the port cities "
                         "of Europe from 541 to 549. It killed many people across the medieval Mediterranean."}
    neighbour = ("Plague of Justinian", "The Plague of Justinian in the Byzantine Empire from 541 to 549.",
                 ["When did the Plague of Justinian strike?", "Whom did it kill?"])
    answers = iter([plan([*SECTIONS[:2], neighbour]), plan(SECTIONS)])
    planner = ScriptedChatModel(respond=lambda m: next(answers))
    # the plague sections sit about as close to Justinian's plague as to the Black Death: they still pass
    report = await run(providers(relevance, planner, corpus=[*CORPUS, justinian]))

    assert "no source in the knowledge base covers section 'Plague of Justinian'" in str(planner.calls[1][-1].content)
    assert [s.title for s in report.sections] == [t for t, _, _ in SECTIONS]
    # it passes the on-topic cut-off (0.48 against 0.45) but never names the Black Death: no section cites it
    assert "Justinian" not in report.to_markdown() and all(s.status == "done" for s in report.sections)


async def test_the_same_rejected_plan_twice_is_not_asked_for_a_third_time(relevance):
    """A small model at temperature 0 answers the feedback with the very same plan; the third call was 20 s lost."""
    generic = [("Introduction", "What the report is about.", ["What is it about?", "Why study it?"]), *SECTIONS[:2]]
    planner = ScriptedChatModel(respond=lambda m: plan(generic))
    report = await run(providers(relevance, planner))

    assert len(planner.calls) == 2
    assert [s.title for s in report.sections][:2] == [t for t, _, _ in SECTIONS[:2]]  # the good ones are kept


async def test_a_plan_short_of_the_sections_asked_says_so_in_the_report(relevance):
    """Five sections asked of a corpus with three subjects: the planner pads nothing, and the report says why it
    has fewer sections (issue 17: report when the corpus holds fewer sub-subjects than asked)."""
    planner = ScriptedChatModel(respond=lambda m: plan(SECTIONS))
    report = await aresearch(TOPIC, providers=providers(relevance, planner), use_cache=False, max_iterations=1,
                             min_sections=5, max_sections=5)

    planned = len(report.sections)
    assert planned < 5
    assert f"{planned} of the 5 sections asked were planned: the sources found on the topic support no more distinct " \
           "sections" in report.metadata.warnings


PRINTING = [
    {"url": WIKI + "Printing_press", "title": "Printing press",
     "text": "A printing press is a mechanical device for applying pressure to an inked surface resting upon paper. "
             "Johannes Gutenberg invented the movable-type printing press in Mainz around 1440. By 1500 printing "
             "presses in operation throughout Western Europe had produced more than twenty million volumes."},
    {"url": WIKI + "Printing", "title": "Printing",
     "text": "Printing is a process for mass reproducing text and images using a master form or template. Woodblock "
             "printing was used in China before 220 AD. The spread of printing across Europe in the sixteenth "
             "century fed the Reformation and the growth of literacy."},
    {"url": WIKI + "Johannes_Gutenberg", "title": "Johannes Gutenberg",
     "text": "Johannes Gutenberg was a German goldsmith and inventor who introduced printing with movable type to "
             "Europe. His invention of the press started the printing revolution. The Gutenberg Bible was printed "
             "in Mainz in the 1450s."},
    *(d for d in CORPUS if d["url"] in OFF_TOPIC),
]


async def test_a_topic_that_names_its_parts_gets_them_as_sections_when_the_plans_fall_short(relevance):
    """From CI on another CPU: the 0.5B model answered "Introduction, Printing, Printing Press" twice; the two
    press articles read as one subject and the report came out with two sections for a topic that names two parts.
    The parts the topic names ("invention", "spread") fill the plan before article titles do."""
    intro = ("Introduction", "What the report is about.", ["What is it about?", "Why study it?"])
    printing = ("Printing", "Printing as a process.", ["What is printing?", "Where did it start?"])
    press = ("Printing Press", "The printing press as a machine.", ["What is a printing press?", "Who built it?"])
    planner = ScriptedChatModel(respond=lambda m: plan([intro, printing, press], title="The printing press"))
    p = providers(relevance, planner, corpus=PRINTING)
    report = await aresearch("The invention and spread of the printing press", providers=p, use_cache=False,
                             max_iterations=1, min_sections=3, max_sections=3)

    titles = [s.title for s in report.sections]
    left_out = [w.split("'")[1] for w in report.metadata.warnings if "was left out" in w]
    assert len(planner.calls) == 2
    assert sorted(titles + left_out) == ["Invention of the printing press", "Printing", "Spread of the printing press"]
    assert all(s.status == "done" for s in report.sections)


async def test_no_on_topic_article_and_no_usable_plan_is_a_clear_error(relevance):
    generic = [("Introduction", "What the report is about.", ["What is it about?", "Why study it?"])] * 3
    planner = ScriptedChatModel(respond=lambda m: plan(generic))
    with pytest.raises(PlanningError, match="is generic"):
        await run(providers(relevance, planner, corpus=[d for d in CORPUS if d["url"] in OFF_TOPIC]))


async def test_summary_copies_and_unsupported_claims_are_removed_from_the_editor_text(relevance):
    copied = "Surviving workers demanded higher wages, and serfdom declined in Western Europe."
    summary = f"{copied} The Black Death killed up to half the people of Europe. Napoleon won the battle of Waterloo."
    collator = editor(summary, "The Black Death reshaped labour in Europe, as wages rose and serfdom declined. **Key")
    planner = ScriptedChatModel(respond=lambda m: plan(SECTIONS))
    report = await run(providers(relevance, planner, collator=collator))

    assert copied not in report.executive_summary and "Napoleon" not in report.executive_summary
    # supported, and said once: in the summary, or in its section where the "It" of "It killed up to half ..."
    # was written out when the definition before it moved up (the editor's copy of it is then a repeat)
    assert ("half" in report.executive_summary) != ("killed up to half" in report.sections[0].content)
    assert "[" in report.executive_summary  # cited
    assert "**" not in report.conclusion and "wages rose" in report.conclusion
    numbers = {e.number for e in report.bibliography}
    assert all(int(n) in numbers for n in __import__("re").findall(r"\[(\d+)\]", report.executive_summary))


async def test_no_sentence_is_printed_twice_across_the_report(relevance):
    planner = ScriptedChatModel(respond=lambda m: plan(SECTIONS))
    report = await run(providers(relevance, planner))

    from nexa_research.kernel.sentences import CITATION, sentence_key, split_sentences

    keys = [sentence_key(CITATION.sub("", s)) for sec in report.sections for s in split_sentences(sec.content.replace("\n\n", " "))]
    assert len(keys) == len(set(keys))


def test_an_editor_sentence_opening_on_a_pronoun_with_nothing_before_it_is_not_printed(relevance):
    """The Hanseatic League report's conclusion opened "Its influence has been evident ...": supported by a
    section sentence, but its "its" points at nothing. A pronoun after a kept sentence is fine."""
    from nexa_research.nodes.text.narrative import findings, section_evidence

    evidence = section_evidence([
        "The Novgorod Republic prospered as the easternmost trading post of the Hanseatic League [2]. Its people were "
        "much influenced by the culture of the Byzantines, with the Novgorod school of icon painting producing many "
        "fine works [2]."
    ])
    dangling = findings(relevance, "Its people were much influenced by the culture of the Byzantines, with the Novgorod "
                        "school of icon painting producing many fine works.", evidence, [])
    assert dangling == ""
    chained = findings(relevance, "The Novgorod Republic prospered as the easternmost trading post of the Hanseatic "
                       "League. Its people were much influenced by the culture of the Byzantines, with the Novgorod "
                       "school of icon painting producing many fine works.", evidence, [])
    assert chained.startswith("The Novgorod Republic prospered") and "Its people" in chained and chained.count("[2]") == 2


LONGER = {
    "Black_Death": " Ships from the Black Sea carried the plague to Sicily in 1347. Within two years the plague had reached "
                   "every part of Europe, from Spain to Scandinavia.",
    "Serfdom": " Wages for farm labourers in England doubled in the decades after the Black Death. Peasants left manors "
               "for towns where work paid more.",
    "Flagellants": " The Church condemned the flagellant processions in 1349. Many towns blamed Jewish communities for "
                   "the plague and attacked them.",
}


async def test_the_editor_is_asked_only_for_what_the_sources_cannot_state(relevance):
    """Passages with sentences to spare state the summary, introduction and conclusion in code: the editor model
    is not called. Three-sentence passages cannot (the conclusion would be the plain text), so it is, and its
    summary is kept where the sections support it."""
    corpus = [{**d, "text": d["text"] + LONGER.get(d["url"].rsplit("/", 1)[-1], "")} for d in CORPUS]
    unused = editor("The Black Death killed up to half of Europe.", "Labour became scarce.")
    report = await run(providers(relevance, ScriptedChatModel(respond=lambda m: plan(SECTIONS)), collator=unused,
                                 corpus=corpus))
    assert unused.calls == []
    up_front = [report.executive_summary, report.introduction, report.conclusion]
    assert all(re.search(r"\[\d\]\.$", part) and "report" not in part.lower() for part in up_front), up_front

    asked = editor("The Black Death killed up to half of Europe.", "Labour became scarce.")
    report = await run(providers(relevance, ScriptedChatModel(respond=lambda m: plan(SECTIONS)), collator=asked))
    assert len(asked.calls) == 1
    # kept where the sections support it and do not already say it ("The Black Death killed up to half of the
    # population of Europe" may stand in section 1, its "It" written out)
    assert ("killed up to half of Europe [1]" in report.executive_summary) != (
        "killed up to half" in report.sections[0].content)
    assert re.search(r"\[\d\]\.$", report.executive_summary) and "report" not in report.executive_summary.lower()
