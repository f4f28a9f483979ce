"""The words a section title is judged by: one vocabulary for the planner's checks and the eval's plan measure.

The planner (nodes/checks/plan.py) and the eval (evals/plan.py) each kept a list of "generic" words, and the two
disagreed: the eval counted "Historical significance" as naming no subject while the planner let it through,
and the planner rejected a reference page's "Description" before the eval knew the word. Here the words fall
into three kinds, each with the reason it names no subject:

- `REPORT_PART_WORDS` name a part of a report ("Introduction", "Summary", "Bibliography"): a title holding one
  is the report's furniture, whatever else it says ("Overview of the Mongol Empire" is repaired, not kept);
- `ANGLE_WORDS` name an angle on a subject ("Causes", "Effects and impact", "History"): a title made only of them
  is missing its subject, which the planner can add from the topic ("Causes of the Black Death");
- `META_WORDS` name the document or its pieces ("Sections", "Main topics covered", "Example questions") or a
  manual page's fixed headings ("Description", "Synopsis", "Parameters").

A title names no subject when every word is of these kinds, a stopword, a number or a roman numeral
(`names_no_subject`): that is what the eval counts as a generic title; the planner is stricter (nodes/checks/
plan.py `generic_title`).
"""

from __future__ import annotations

import re

from nexa_research.kernel.words import STOPWORDS, words

REPORT_PART_WORDS = frozenset(
    "introduction intro conclusion conclusions concluding overview summary background references bibliography "
    "appendix discussion epilogue prologue preface abstract outlook definition definitions".split()
)
ANGLE_WORDS = frozenset(
    "causes cause effects effect impact impacts implications consequences legacy history historical origins origin "
    "development significance analysis context aftermath results influence importance role future challenges key "
    "main major general aspects factors features overall basics fundamentals considerations facts perspectives".split()
)
# The angle words that qualify a noun rather than name an angle: "Historical" alone has nothing for "of <topic>" to
# hang on (a 0.5B plan's "Historical" became "Historical of the Crusades and the struggle for the Holy Land").
ANGLE_ADJECTIVES = frozenset("historical key main major general overall".split())
META_WORDS = frozenset(
    "section sections report topic topics chapter chapters part parts paragraph paragraphs title covered cover "
    "covers areas area points point questions question items example examples sample additional information "
    "details miscellaneous misc notes further reading sources content contents body findings final thoughts "
    "remarks closing executive takeaways highlights "
    # what a report sets out to do: a 0.5B plan for "Isaac Newton and the laws of motion and gravitation" titled
    # its first section "Objective of the Report" (fourteenth session's reader check)
    "objective objectives purpose aim aims scope goal goals "
    # the fixed headings of a manual's reference page ("VACUUM › Description", "CREATE INDEX › Notes"): a section
    # a small planner titled "Description" from them names no subject
    "description synopsis parameters compatibility outputs options usage arguments".split()
)
# Verbs that frame a title without naming a part of its subject: "Understanding Transaction Isolation Levels" is the
# section "Transaction Isolation Levels" (a documents report held it beside "Implementing Transaction Isolation
# Levels" and "Reason for Different Levels of Transaction Isolation", 0.87-0.88 apart as wholes).
FRAMING_WORDS = frozenset("understanding exploring examining explaining introducing discussing investigating".split())
# Phrases of report furniture whose words alone are not: "key findings", "final thoughts".
REPORT_PART_PHRASES = frozenset({"key findings", "final thoughts", "closing remarks", "key takeaways"})

_ROMAN = re.compile(r"^[ivxlc]+$")
_NO_SUBJECT = REPORT_PART_WORDS | ANGLE_WORDS | META_WORDS | STOPWORDS


def names_no_subject(title: str) -> bool:
    """Every word of the title is a report part, an angle, a word about the document, a stopword, a number or a
    roman numeral ("Background and overview", "Historical significance", "Section 2", "Key areas covered by each
    section"); a title with no words at all names nothing either."""
    title_words = words(title)
    return all(w in _NO_SUBJECT or w.isdigit() or _ROMAN.match(w) for w in title_words)


def names_report_part(title: str) -> bool:
    """The title holds a word or phrase naming a part of a report ("Overview of X", "Key findings")."""
    title_words = words(title)
    return any(w in REPORT_PART_WORDS for w in title_words) or " ".join(title_words) in REPORT_PART_PHRASES
