"""One tokenizer, stopword list and stemmer (nexa_research.kernel.words) for every text rule."""

from __future__ import annotations

from nexa_research.kernel.words import STOPWORDS, content_words, stem, stems, words


def test_a_stem_joins_inflections_and_keeps_neighbouring_subjects_apart():
    assert stem("antibiotics") == stem("antibiotic")
    assert stem("discovered") == stem("discovery")
    assert stem("vaccine") != stem("printing")
    assert stem("vaccination")[:5] == stem("vaccine")[:5]
    assert stem("printmaking") != stem("printing")  # a five-letter stem joined them
    assert stem("wages") == stem("wage") and stem("glass") == "glass"  # a plural "s", not a double one


def test_content_words_are_three_letters_or_more_and_not_function_words():
    assert content_words("The war and the oil of its era") == ["war", "oil", "era"]
    assert "the" in STOPWORDS and "penicillin" not in STOPWORDS
    assert words("Rock-and-roll's heyday, 1950s") == ["rock-and-roll's", "heyday", "1950s"]
    assert stems("The discovery of penicillins") == {"discov", "penici"}
