"""Sentences, as every text rule of the pipeline and the evals cuts them: one splitter, one comparison key, one
citation pattern, one test of a sentence that leans on the one before it.

The evals read reports through these same functions (evals/report_text.py), so "a sentence" means one thing
from the synthesizer to the last measure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# [3], [1, 2], [1-3], [2][4] (the last is two matches)
CITATION = re.compile(r"\[(\d+(?:\s*[-–,]\s*\d+)*)\]")

# A break after . ! or ? before a capital, a digit, or an opening quote or bracket; none after an ellipsis, which a
# manual writes inside a sentence for what it leaves out ("any ALTER DATABASE ... SET ... commands that mention this
# database" was cut at the first "..." and printed as a documents report's summary).
_SENTENCE_END = re.compile(r"(?<!\.\.\.)(?<=[.!?])\s+(?=[\"'“(\[]?[A-Z0-9])")
# No break after an initial or a common abbreviation: "C. A. Parsons and Company", "Dr. Snow", "St. Paul", "c. 1450",
# "e.g. Venice", "Apple Inc. and". I, V and X are left out: "World War I." and "Henry V." end sentences.
_ABBREVIATION = re.compile(
    r"(?:^|[\s(])(?:[A-HJ-UWYZ]|c|ca|St|Dr|Mr|Mrs|Ms|Prof|No|vs|Jr|Sr|Mt|Ft|Gen|Col|Capt|Lt|Rev|Co|Inc|Ltd|U\.S|"
    r"e\.g|i\.e)\.$"
)
# Citations a writer put after the full stop ("It spread quickly. [2] Then ...") belong to the sentence before.
_LEADING_CITATIONS = re.compile(rf"^((?:\s*{CITATION.pattern})+)\s*")
# A sentence that opens on a pronoun or a demonstrative leans on the one before it, also after a short opening
# phrase: "Among South American rivers, it is second in length only to the Amazon" is about the Paraná; "In a joint
# presentation with Alfred Russel Wallace, he introduced ..." about Darwin.
# A sentence that opens on a connective ("In addition, the classic definition sidelines ...", printed under
# Xinjiang from the Silk Road article) continues an argument the reader has not seen: it leans on the one before it
# just as a pronoun does. So does a time or place given by a demonstrative ("Before this Pharaoh was a term ...",
# lifted into an Egyptian report's summary from the middle of the Pharaoh article), and so does a pronoun after
# an adverb ("Typically this is the step between logic design and physical design", a transistor report's
# conclusion), and a part of what came before ("Several of these stem from ...", a Viking report's Odin). Up to two
# opening phrases: "Constructed between 1931 and 1936, during the Great Depression, it was dedicated ..." (the
# Hoover Dam) needs the sentence saying what "it" is. A manual's "In this approach, the idea is ..." and "Note that
# they also use extra disk space" (a PostgreSQL report's introduction and conclusion) lean the same way, and so do a
# narrative's "Now another detail of PostgreSQL enters the stage" and "The above demonstrates how ...". A pronoun
# right after a subordinating word leans too, however long the clause: "Though he is most famous for his
# contributions to photography, he was also ..." (Daguerre's article) was printed under a section on cameras.
# Up to two opening phrases, each ended by a comma: "Spanning over 6,400 km (4,000 mi) on land, " (a comma or a
# point between digits is part of a number, not the end of a phrase), "Having survived the fall of the Western
# Roman Empire in the 5th century AD, " (72 letters: the Byzantine Empire's second sentence, printed first in a
# section once the definition before it moved up). A list of names is several phrases: "Along with Herculaneum,
# Stabiae, and many surrounding villas, it was buried ..." (Pompeii's article) is four, so up to four count.
_OPENING_PHRASES = r"(?:(?:[^,.;:]|[,.](?=\d)){1,100},\s+){0,4}"
NEEDS_ANTECEDENT = re.compile(
    rf"^(?:(?:(?:according to|like|unlike|for) )?{_OPENING_PHRASES}(?:[a-z]+ly\s+)?"
    r"(?:it|its|this|these|those|that|he|she|his|her|they|their|them|such)\b"
    r"|(?:before|after|since|until|during|by|from|at|in|under|despite|following|besides) (?:this|that|these|those|then)\b"
    r"|(?:note|notice) that (?:it|its|this|these|those|they|their|he|she|his|her)\b"
    r"|(?:(?:even )?though|although|while|whereas|when|because|once|if|as) (?:it|its|he|she|his|her|they|their)\b"
    r"|(?:some|many|most|several|all|each|both|one|none|few|two|three|either|neither) of (?:these|those|them|this|which)\b"
    r"|(?:in addition|additionally|also|moreover|furthermore|however|nevertheless|nonetheless|besides|likewise|"
    r"similarly|instead|therefore|thus|hence|consequently|accordingly|as a result|in fact|in turn|meanwhile|otherwise|"
    r"now)\b"
    r"|(?:the|as|from the) above\b"
    # "Other current spaceflight are conducted to the International Space Station ..." (a Spaceflight passage's
    # last sentence, an Apollo report's conclusion): "other" and "another" count against what came before
    r"|(?:other|another)\b(?! than\b)"
    # a reference page's row or entry opens on its verb, its subject the name beside it: "Returns true if recovery
    # is still in progress" (a function table), "Specifies the ..." (a setting); alone it names nothing
    r"|(?-i:(?:Returns|Specifies|Sets|Controls|Determines|Enables|Disables|Forces|Reports|Shows|Lists|Computes|"
    r"Converts|Extracts|Defines|Indicates|Gets|Removes|Creates)) (?:the|a|an|true|false|whether|if|how|which|what|"
    r"information|null|zero|one|all)\b)",
    re.I,
)


# A sentence opening on a definite description ("The disease was caused by ...", "The term later took on ...")
# names what the sentence before introduced. A source's first sentence is exempt: "The nuclear arms race was ..."
# opens an article. Case-sensitive after the article: "The Cold War was ..." names its subject.
OPENS_DEFINITE = re.compile(r"^(?i:the|this|that|these|those|such|both|each)\s+[a-z]")
_SENTENCE_START = re.compile(r"^\s*[\"“‘'(\[]?[A-Z0-9]")


def starts_a_sentence(text: str) -> bool:
    """False for a chunk cut mid-sentence ("the Eastern Bloc. The term later took on ..."): its first whole
    sentence is not where the article opens, so a definite description there still leans on what was cut."""
    return bool(_SENTENCE_START.match(text))


# An event dated by the one before it: "A group of assassins subsequently killed Selim." (an Ottoman report printed
# it alone, its subject's deposition left in another section). Words that only ever count from a previous event,
# in the sentence's opening words; "later" and "then" also mean other things ("later life", "if ... then"), so they
# count only as the sentence's first word ("Later, in 1532, Pizarro ..." opened an Inca report's summary).
FOLLOWS_EVENT = re.compile(
    r"^(?:(?:[\w'’-]+[,\s]+){0,8}?(?:subsequently|thereafter|afterwards?)|later|then)\b", re.I
)


def leans_on_previous(sentence: str, first: bool = False) -> bool:
    """True when `sentence` needs the one before it to be understood (a pronoun, a connective, a definite
    description, an event dated by the one before); the first sentence of a source leans only by a pronoun or
    connective."""
    bare = CITATION.sub("", sentence).strip()
    return bool(NEEDS_ANTECEDENT.match(bare)) or (
        not first and bool(OPENS_DEFINITE.match(bare) or FOLLOWS_EVENT.match(bare))
    )


def sentence_key(sentence: str) -> str:
    """The comparison key of a sentence: words only, lower case, citations removed."""
    return " ".join(re.sub(r"[^\w\s]", " ", CITATION.sub("", sentence).lower()).split())


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, in order: no break after an abbreviation, and citations written after a
    full stop kept with the sentence they follow."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(paragraph.strip()):
        piece = piece.strip()
        lead = _LEADING_CITATIONS.match(piece)
        if lead and pieces:
            pieces[-1] = f"{pieces[-1]} {lead.group(1).strip()}"
            piece = piece[lead.end():].strip()
        if not piece:
            continue
        if pieces and _ABBREVIATION.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return pieces


# A reference text's opening sentence names its subject before "is"/"was" ("The Black Death was ...", "Edward III,
# also known as Edward of Windsor before accession, was ..."); the sentences after it say "it", "he", "his". Only
# a singular subject: "Furs and wax from the Russian forests were the chief exports of Novgorod" is no antecedent
# for the "Its people ..." after it (the republic is).
_SUBJECT = re.compile(
    r"^(?P<subject>(?:The |A |An )?[A-Z][\w'’.-]*(?: [\w'’.-]+){0,6}?)(?:, [^,]{1,80},)? "
    r"(?:is|was|has been|had been)\b"
)
_NOT_A_SUBJECT = re.compile(r"^(?:It|He|She|They|This|That|These|Those|There|Its|His|Her|Their|A|An|The)\b(?! [A-Z])")
# "It" that stands for the subject, not the "it" of "it is estimated that" or "it was not until"
_SUBJECT_PRONOUN = re.compile(
    rf"^(?P<lead>(?=[A-Z]){_OPENING_PHRASES})?(?P<pronoun>It|He|She|Its|His|Her|it|he|she|its|his|her)\b(?P<rest>.*)$",
    re.S,
)
# A subject named with an article ("The New Deal", "A tsunami") is a thing, not a person: a "he" or "his" after
# its sentence stands for someone that sentence names later ("... under President Franklin D. Roosevelt. He
# introduced the phrase ..." was written out "The New Deal introduced the phrase ...").
_PERSONAL = frozenset({"he", "she", "his", "her"})
_THING = re.compile(r"^(?:The|A|An) ")
_EXPLETIVE_IT = re.compile(r"^It (?:is|was|has been|had been|seems|seemed|appears|appeared) (?:\w+ )?(?:that|to|not until|whether)\b")


def named_subject(sentence: str) -> str | None:
    """The subject a definitional sentence names ("The Black Death" in "The Black Death was a plague pandemic
    ..."), or None when it does not open that way."""
    match = _SUBJECT.match(CITATION.sub("", sentence).strip())
    if match is None or _NOT_A_SUBJECT.match(match["subject"]):
        return None
    return match["subject"]


def with_subject_named(sentence: str, subject: str) -> str | None:
    """`sentence` with its opening pronoun replaced by the `subject` it stands for ("It was one of the most fatal
    pandemics" -> "The Black Death was one of ..."; "His reign" -> "Edward III's reign"), so that it reads without
    the sentence before it; None when it does not open on such a pronoun, or on an "it" that stands for nothing
    ("It is estimated that ...")."""
    match = _SUBJECT_PRONOUN.match(sentence.strip())
    if match is None:
        return None
    lead, pronoun = match["lead"] or "", match["pronoun"]
    if pronoun[0].isupper() == bool(lead) or _EXPLETIVE_IT.match(pronoun.capitalize() + match["rest"]):
        return None  # "Historically, It" is no sentence; "it is estimated that" stands for nothing
    if pronoun.lower() in _PERSONAL and _THING.match(subject):
        return None
    possessive = pronoun.lower() in {"its", "his", "her"}
    name = f"{subject}’" if possessive and subject.endswith("s") else f"{subject}'s" if possessive else subject
    if lead:  # "Historically, Lanzhou has been ...", "In 1928, the penicillin ..."
        name = re.sub(r"^(The|A|An) ", lambda m: f"{m[1].lower()} ", name)
    rewritten = f"{lead}{name}{match['rest']}"
    return None if leans_on_previous(rewritten) else rewritten


def naming_sentence(before: Sequence[str]) -> str | None:
    """The sentence whose subject an opening pronoun after `before` stands for: walking back from the last sentence
    to the first that leans on nothing, the nearest that names its subject ("Sir Alexander Fleming was ..." for a
    "His ..." after "He shared ...", "This was ..."); None when the chain names none."""
    for earlier in reversed(before):
        if named_subject(earlier) is not None:
            return earlier
        if not leans_on_previous(earlier):
            return None
    return None


def written_alone(before: Sequence[str], sentence: str) -> str | None:
    """`sentence` as it reads without the sentences `before` it in its passage: its opening pronoun written out as
    the subject of the chain it leans on ("His discovery in 1928 ..." -> "Sir Alexander Fleming's discovery in 1928
    ...", `naming_sentence`). None when no such subject is found or the sentence leans otherwise."""
    named = naming_sentence(before)
    subject = named_subject(named) if named is not None else None
    return with_subject_named(sentence, subject) if subject is not None else None
