"""What a sentence about the report itself is: one definition for what the collator keeps out of the summary,
introduction and conclusion and what the eval counts there (evals/framing.py).

A reader opens the summary to learn what the sources say. "This report examines X in 5 sections", "Each of the
sections below draws on ...", "The report concludes by discussing ..." tell them only that a report exists and how
it is laid out, which the table of contents already shows. Such sentences are found by how they are built, not by
a list of known sentences: a deictic reference to the document ("this report", "our study", "the present
overview"), a reference to its parts that places them or gives them a verb of presenting ("the sections below",
"the following chapters discuss", "section 3 describes"), the document as the subject of the sentence ("The
report stops ...", "The conclusion summarises ..."), an author announcing what they do ("we will examine", "as
discussed above"), the reader, or the report's own sourcing ("every statement in it is taken from one of 6 cited
sources"). Names of other documents ("the Brundtland report defined ..."), parts of things ("the brass section of
the orchestra", "this part of the Sahara") and "the study of X" are not self-references.

The eval had this definition alone, and a 0.5B editor's "The report concludes by discussing the historical
evolution of slavery in Africa, ..." passed the collator's support check (its words are the sections') and was
counted against the report it was printed in.
"""

from __future__ import annotations

import re

_META = (r"(?:(?:examin|explor|cover|discuss|describ|present|look|trac|focus|outlin|summari[sz]|review|consider|"
         r"address|turn|end|stop|conclud|follow|organi[sz]|divid|structur|provid|offer|highlight|introduc|treat|"
         r"explain|argu|detail|survey|start|cit|draw|show)(?:e|es|s|ed|d|ing|n)?|stopp(?:ed|ing)|began|begins?|"
         r"beginning|begun|drew|deals?|dealt|relies|rely|relied|sets\s+out|set\s+out)")
_SELF = r"(?:report|overview|essay|study|survey|summary)"
_PARTS = r"(?:sections?|chapters?)"
_WHICH = (r"(?:this|these|the\s+following|the\s+next|the\s+previous|the\s+preceding|the\s+remaining|the\s+other|"
          r"each\s+of\s+the(?:\s+\d+|\s+\w+)?|all(?:\s+\w+)?\s+of\s+the|the\s+(?:\d+|two|three|four|five|six|seven|"
          r"eight|nine|ten|first|second|third|fourth|fifth|last|final))")

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("document", re.compile(rf"\b(?:this|these|our|the\s+present)\s+(?:\w+\s+)?{_SELF}\b(?!\s+of\b)", re.I)),
    ("parts", re.compile(rf"\b{_PARTS}\s+(?:below|above|ahead|that\s+follows?|which\s+follows?|to\s+come)\b", re.I)),
    ("parts", re.compile(rf"\b{_WHICH}\s+(?:\w+\s+)?{_PARTS},?\s+(?:\w+\s+){{0,2}}?{_META}\b", re.I)),
    ("parts", re.compile(rf"\b(?:in|across|throughout|over)\s+{_WHICH}\s+{_PARTS}\b(?!\s+of\b)", re.I)),
    ("parts", re.compile(rf"\b(?:section|chapter)\s+\d+\s+(?:\w+\s+)?{_META}\b", re.I)),
    ("subject", re.compile(r"^(?:the|this|our)\s+(?:report|overview|essay|introduction|conclusion)\b(?!\s+of\b)", re.I)),
    ("subject", re.compile(rf"\bthe\s+report\s+(?:\w+\s+)?{_META}\b", re.I)),
    ("author", re.compile(rf"\bwe\s+(?:(?:will|shall|now|then|first|next|also|have|briefly)\s+){{0,2}}{_META}\b|"
                          r"\blet\s+us\b|\bin\s+what\s+follows\b", re.I)),
    ("author", re.compile(r"\bas\s+(?:noted|discussed|described|mentioned|shown|seen|explained|outlined)\s+"
                          r"(?:above|below|earlier|later|previously|before)\b", re.I)),
    ("reader", re.compile(r"\bthe\s+reader\b|\breaders\s+(?:will|can|may|should|might)\b", re.I)),
    ("sourcing", re.compile(r"\b(?:every|each)\s+(?:statement|sentence)s?\b|\bcited\s+sources?\b|"
                            r"\bsources?\s+(?:it|the\s+report|this\s+report)\s+(?:cites?|draws?\s+on|uses?)\b", re.I)),
)


def self_reference(sentence: str) -> str | None:
    """The kind of self-reference in a sentence (document, parts, subject, author, reader, sourcing), or None."""
    text = " ".join(sentence.split())
    return next((kind for kind, pattern in PATTERNS if pattern.search(text)), None)
