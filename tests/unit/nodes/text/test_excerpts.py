"""A document found because it names the subject is cut to the sentences naming it (nodes/text/excerpts.py)."""

from __future__ import annotations

from nexa_research.nodes.checks.subject import TopicSubject
from nexa_research.nodes.text.excerpts import naming_excerpt
from nexa_research.providers.search.protocol import make_source

SUBJECT = TopicSubject(["https://en.wikipedia.org/wiki/Black_Death"], ["black death"], ["black", "death"])
WAR = ("The Hundred Years' War was a series of conflicts between England and France. It emerged from feudal "
       "disputes over the Duchy of Aquitaine. The war grew into a broader struggle. However, it was frequently "
       "interrupted by external factors, such as the Black Death. Historians divide it into three phases.")


def test_a_sentence_naming_the_subject_comes_with_the_opening_it_leans_on():
    excerpt = naming_excerpt(make_source(url="https://x.org/hyw", title="Hundred Years' War", text=WAR, chunk=0),
                             SUBJECT.named_in)
    assert excerpt is not None
    assert excerpt["text"] == ("The Hundred Years' War was a series of conflicts between England and France. However, "
                               "it was frequently interrupted by external factors, such as the Black Death.")
    assert excerpt["focus"] == "However, it was frequently interrupted by external factors, such as the Black Death."
    assert excerpt["chunk"] == 0 and excerpt["url"] == "https://x.org/hyw"


def test_only_the_naming_sentences_and_what_they_lean_on_and_no_naming_is_none():
    later = make_source(url="https://x.org/hyw", title="Hundred Years' War", text=WAR, chunk=2)
    assert naming_excerpt(later, SUBJECT.named_in) is None
    standalone = make_source(url="https://x.org/e3", title="Edward III", chunk=1,
                             text="Edward III ruled England. The Black Death struck England in 1348. It killed a third of the people of the country.")
    excerpt = naming_excerpt(standalone, SUBJECT.named_in)
    # what follows is about the document's own subject, or leans on it: not taken
    assert excerpt is not None and excerpt["text"] == "The Black Death struck England in 1348."
    plain = make_source(url="https://x.org/x", title="Tide", text="Tides are caused by the Moon.")
    assert naming_excerpt(plain, SUBJECT.named_in) is None
