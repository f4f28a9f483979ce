"""Words, as every text rule of the pipeline and the evals counts them: one tokenizer, one stopword list, one stemmer.

The rules grew one case at a time, each with its own word pattern (three letters or four), its own list of
function words and its own stem (a five-letter prefix, a six-letter one, a plural cut), so two checks of the same
sentence could disagree on what its words were. Here:

- a word is a run of letters and digits (inner apostrophes and hyphens kept), lower-cased;
- a content word is a word of three letters or more that is not in `STOPWORDS` ("war", "oil" and "art" count);
- a stem is the word without a plural "s", cut to six letters: "antibiotic" meets "antibiotics", "discovered"
  meets "discovery", "vaccine" meets "vaccination", while "printmaking" stays apart from "printing" (five letters
  would join them, and a subject check would take the one for the other).
"""

from __future__ import annotations

import re

WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
STEM_LETTERS = 6
MIN_CONTENT_LETTERS = 3

STOPWORDS = frozenset(
    "a an the and or nor but if then so as at by for from in into of off on onto out over per to under up upon via "
    "with within without about above across after against along among around before behind below beneath beside "
    "between beyond during except inside near since than through throughout till toward towards until "
    "is are was were be been being am has have had having do does did doing done can could would should may might "
    "must shall will "
    "it its it's this that these those they them their theirs there here he him his she her hers we us our ours "
    "you your yours i me my mine who whom whose which what when where while why how "
    "also not no yes very more most many much some such each every all any both either neither other others another "
    "same own only just even still yet too made make makes used use uses using one ones".split()
)


def words(text: str) -> list[str]:
    """Every word of `text`, lower-cased, in order."""
    return WORD.findall(text.lower())


_NAME_WORD = re.compile(r"[a-z0-9]+")


def name_text(text: str) -> str:
    """Text as names are compared: lower case, letters and digits only, one space between words ("Hundred Years'
    War" -> "hundred years war", "Rio Negro" -> "rio negro"); apostrophes and hyphens split words here, unlike
    `words`. The subject's names (nodes/checks/subject.py) and the knowledge base's lookup by name
    (providers/search/naming.py) read names this one way."""
    return " ".join(_NAME_WORD.findall(text.lower()))


def stem(word: str) -> str:
    """The word without a plural "s" (not "ss", not in words of four letters or fewer), cut to six letters."""
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:STEM_LETTERS]


def content_words(text: str) -> list[str]:
    """The words that carry what a text claims: three letters or more, not a stopword; in order, repeats kept."""
    return [w for w in words(text) if len(w) >= MIN_CONTENT_LETTERS and w not in STOPWORDS]


def stems(text: str) -> set[str]:
    """The stems of the content words of `text`."""
    return {stem(w) for w in content_words(text)}
