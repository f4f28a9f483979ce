"""The one definition of a broken sentence (kernel/fragments.py): what the eval counts, the pipeline never prints."""

import pytest

from nexa_research.evals.fragments import fragment_kind
from nexa_research.kernel.fragments import broken_kind, non_latin_letters
from nexa_research.nodes.text.fragments import fragment_reason, printable

BROKEN = [
    ("Fish &amp; chips were sold in the street.", "markup"),
    ("This needs a source [citation needed].", "markup"),
    ("The capital 北京 grew quickly over the century.", "foreign_script"),
    ("In conclusion: the war ended in a stalemate.", "label"),
    ("Why did the empire fall so quickly in the end?", "question"),
    ("Yes indeed.", "short"),
    ("The press spread to Venice and then to Paris...", "unterminated"),
    ("The press spread to Venice (and then to Paris", "unterminated"),
]


@pytest.mark.parametrize(("sentence", "kind"), BROKEN)
def test_each_kind_is_named(sentence, kind):
    assert broken_kind(sentence) == kind


@pytest.mark.parametrize(("sentence", "kind"), BROKEN)
def test_what_the_eval_counts_the_pipeline_does_not_print(sentence, kind):
    assert fragment_kind(sentence) == kind
    assert fragment_reason(sentence) is not None
    assert printable(f"Gutenberg printed the Bible in Mainz around 1455. {sentence}")[0] == (
        "Gutenberg printed the Bible in Mainz around 1455."
    )


@pytest.mark.parametrize("sentence", [
    "Printing spread quickly across Europe [1].",
    'He called the press "the greatest invention."',
    "It cost 1.5 million florins, a fortune at the time [2, 3].",
    "Gutenberg's Bible (about 1455) was printed in Mainz [1-2].",
])
def test_sound_sentences_pass_both(sentence):
    assert broken_kind(sentence) is None and fragment_kind(sentence) is None and fragment_reason(sentence) is None


def test_other_writing_systems_only_count_in_an_english_report():
    assert broken_kind("Печатный станок появился в Москве.", english=False) is None
    assert non_latin_letters("Greek ἄκρον") and not non_latin_letters("Café Müller, Łódź")
