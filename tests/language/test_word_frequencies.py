"""Word frequencies: how often each language uses a word, from wordfreq's bundled lists."""

import math

from bot.language.word_frequencies import UNLISTED_FREQUENCY, languages_with_lists, word_log_likelihoods


def test_a_word_is_most_likely_in_the_language_that_uses_it_most():
    scores = word_log_likelihoods(["obrigado", "pela", "ajuda"], ["es", "pt", "it"])
    assert max(scores, key=scores.get) == "pt"


def test_a_word_no_list_has_counts_the_same_for_every_language():
    scores = word_log_likelihoods(["xqzvbrt"], ["en", "de", "fr"])
    assert len(set(scores.values())) == 1
    assert scores["en"] < 0 and abs(scores["en"] - math.log(UNLISTED_FREQUENCY)) < 1e-9


def test_case_and_typographic_apostrophes_do_not_matter():
    assert word_log_likelihoods(["C’est"], ["fr"]) == word_log_likelihoods(["c'est"], ["fr"])


def test_languages_without_a_list_are_left_out():
    assert "xx" not in languages_with_lists()
    assert set(word_log_likelihoods(["hello"], ["en", "xx"])) == {"en"}
