"""The part of a document that names the subject: what a lookup by name (providers/search/naming.py) hands on.

A document found because it names the subject is mostly about something else: the Hundred Years' War's article
is about the war, and one of its sentences says the Black Death interrupted it. Scored whole, such a document
sits under the on-topic floor and the relevance gate rightly turns it away; written whole, its other sentences
would be padding. What belongs in the report is the sentence that names the subject, with the sentences it
leans on ("However, it was an intermittent conflict ..." needs the one saying what "it" is), in the document's
order, like a search engine's snippet. That excerpt then goes through the same gate as any search result, judged
by the sentences that name the subject (`focus`): the opening added for the reader is about the document's own
subject, and scored with it the Seventh Seal's sentence on a knight "returning to Sweden during the Black Death"
(0.46 against the topic) sank to 0.33, under the on-topic floor.
"""

from __future__ import annotations

from collections.abc import Callable

from nexa_research.kernel.sentences import leans_on_previous
from nexa_research.nodes.text.fragments import passage_sentences
from nexa_research.providers.search.protocol import make_source
from nexa_research.state import Source


def naming_excerpt(source: Source, names_subject: Callable[[str], bool]) -> Source | None:
    """The sentences of `source` that name the subject, in order, each with what it needs to be read: a sentence
    leaning on the one before it gets the document's opening sentence (in a reference article, what "it" and
    "his" point to is the article's own subject, which the opening names). What follows it is about the document's
    own subject ("He outlived his eldest son ..." after Edward III's reign saw the Black Death) and is left out.
    None when no sentence names the subject, or when one that does leans on a part of the document this chunk
    does not hold."""
    sentences = passage_sentences(source["text"])
    opens_document = source.get("chunk", 0) == 0
    keep: set[int] = set()
    naming: list[str] = []
    for i, sentence in enumerate(sentences):
        if not names_subject(sentence):
            continue
        naming.append(sentence)
        if i > 0 and leans_on_previous(sentence):
            if not opens_document:
                continue
            keep.add(0)
        keep.add(i)
    if not keep:
        return None
    text = " ".join(sentences[i] for i in sorted(keep))
    excerpt = make_source(url=source["url"], title=source["title"], text=text, published=source["published"],
                          chunk=source.get("chunk"))
    excerpt["focus"] = " ".join(naming)
    return excerpt
