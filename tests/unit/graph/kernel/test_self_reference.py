"""A sentence about the report itself is found by how it is built (document, parts, subject, author, reader,
sourcing); names of other documents, parts of things and "the study of X" are not such sentences."""

from __future__ import annotations

import pytest

from nexa_research.kernel.self_reference import self_reference

SELF_REFERENCES = [
    ("This report examines the Black Death in 4 sections: its causes, its spread and its effects.", "document"),
    ("It is the subject of this short report.", "document"),
    ("The present overview draws on encyclopedia articles only.", "document"),
    ("Our study ends with the Treaty of Versailles.", "document"),
    ("Each of the 5 sections below draws on the sources retrieved for it.", "parts"),
    ("The sections below trace the river from the Andes to the Atlantic.", "parts"),
    ("In the chapters that follow, the origins of the music come first.", "parts"),
    ("This section covers the early history of jazz.", "parts"),
    ("The following sections discuss the origins, the spread and the legacy of the press.", "parts"),
    ("The three sections then turn to the economy.", "parts"),
    ("Across the five sections, the war is seen from Vienna, Berlin and Belgrade.", "parts"),
    ("Section 3 describes the New Deal's programmes.", "parts"),
    ("The report stops where its sources stop.", "subject"),
    ("The conclusion summarises what the sources show.", "subject"),
    ("Below, the report looks at the causes first.", "subject"),
    ("We will first examine the causes of the crisis.", "author"),
    ("As discussed above, the press spread quickly.", "author"),
    ("Let us begin with the invention itself.", "author"),
    ("The reader will find the dates in the second part.", "reader"),
    ("Every statement in it is taken from one of 6 cited sources.", "sourcing"),
    ("Each sentence comes from the encyclopedia.", "sourcing"),
    ("Nothing here goes beyond the sources it cites.", "sourcing"),
    ("The report concludes by discussing the historical evolution of slavery in Africa.", "subject"),
]

NOT_SELF_REFERENCES = [
    "The Brundtland report defined sustainable development in 1987.",
    "The Warren Commission report concluded that Oswald acted alone.",
    "The brass section of the orchestra grew during the swing era.",
    "The brass section provided the rhythm of the big bands.",
    "The string sections of the orchestra play in unison.",
    "The Amazon and its sources rise in the Andes.",
    "This part of the Sahara receives almost no rain.",
    "Section 2 of the Thirteenth Amendment gives Congress the power to enforce it.",
    "These documents show that the treaty was signed in 1919.",
    "The study of heredity in biology is genetics.",
    "This summary of the law was read aloud in every parish.",
    "We know little about Imhotep as a historical figure.",
    "World War I ended in 1918 with the armistice.",
    "Readers of Dickens's serials waited for each instalment.",
    "Below the dam, the river widens into a lake.",
    "The following year, the armies met again at the Marne.",
    "The first section of the Great Wall was built of rammed earth.",
    "Penicillin was discovered in 1928 by Alexander Fleming.",
    "All claims to the throne were settled by the treaty.",
    "The statement of 1917 promised a national home in Palestine.",
    "Historians disagree about the sources of the Nile.",
]


@pytest.mark.parametrize(("sentence", "kind"), SELF_REFERENCES)
def test_self_references_are_found_with_their_kind(sentence, kind):
    assert self_reference(sentence) == kind


@pytest.mark.parametrize("sentence", NOT_SELF_REFERENCES)
def test_sentences_about_the_subject_are_not_self_references(sentence):
    assert self_reference(sentence) is None
