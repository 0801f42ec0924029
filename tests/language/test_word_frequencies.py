"""Word frequencies: how often each language uses a word, from wordfreq's bundled lists."""

import math

import pytest

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


def test_words_typed_without_accents_count_for_the_language_that_accents_them():
    # "informacion", "envio": Spanish customers often leave the accents off.
    scores = word_log_likelihoods(["informacion", "envio"], ["es", "pt", "en"])
    assert max(scores, key=scores.get) == "es"
    # An ASCII-only gateway dropped the accented letters of "visión" and "límites".
    dropped = word_log_likelihoods(["visin", "lmites"], ["es", "pt", "fr", "en"])
    assert max(dropped, key=dropped.get) == "es"


def test_a_rare_listed_token_does_not_hide_the_word_its_accents_were_lost_from():
    # Spanish web text left "poltico" (from "político") in the Spanish list at 1e-8, while
    # Portuguese lists no such token: the Spanish word must still count as Spanish.
    scores = word_log_likelihoods(["poltico", "ltimos"], ["es", "pt"])
    assert scores["es"] > scores["pt"]


def test_a_listed_spelling_is_not_also_credited_as_a_lost_accent():
    from wordfreq import get_frequency_dict

    # "como" is listed in Spanish itself; the frequency of "cómo" must not be added to it.
    listed = get_frequency_dict("es", wordlist="large")["como"]
    assert math.exp(word_log_likelihoods(["como"], ["es"])["es"]) == pytest.approx(listed)


def test_sharp_s_is_looked_up_as_the_lists_fold_it():
    # wordfreq stores German "heißt" as "heisst"; lower() alone would miss it.
    scores = word_log_likelihoods(["heißt"], ["de", "en"])
    assert scores["de"] > math.log(1e-5) > scores["en"]


def test_an_elided_article_or_pronoun_counts_for_the_language_that_elides():
    # wordfreq splits "j'attends" into "j" + "attends"; the clitic is what makes it French.
    for word, expected in (("j'attends", "fr"), ("l'adresse", "fr"), ("un'altra", "it"), ("l'ordine", "it")):
        scores = word_log_likelihoods([word], ["en", "fr", "it", "es", "pt", "de"])
        assert max(scores, key=scores.get) == expected, word


def test_a_word_listed_with_its_apostrophe_keeps_its_own_frequency():
    from wordfreq import get_frequency_dict

    listed = get_frequency_dict("en", wordlist="large")["women's"]
    assert math.exp(word_log_likelihoods(["women's"], ["en"])["en"]) == pytest.approx(listed)


@pytest.fixture
def fresh_lists(monkeypatch, tmp_path):
    """The lists loaded again, with the machine's cache of built tries under `tmp_path`."""
    from bot.language import word_frequencies

    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path / "bridge-home"))
    word_frequencies._frequencies.cache_clear()
    yield word_frequencies
    word_frequencies._frequencies.cache_clear()


WORDS = ["informacion", "l'adresse", "gracias", "visin", "straße"]


def test_lists_built_once_are_read_back_from_the_cache_with_the_same_frequencies(fresh_lists, tmp_path):
    built = fresh_lists.word_log_likelihoods(WORDS, ["es", "fr", "de"])
    cached = sorted(p.name for p in (tmp_path / "bridge-home").rglob("*.marisa"))
    assert cached == sorted(f"{code}-{kind}.marisa" for code in ("de", "es", "fr") for kind in ("accentless", "listed"))
    fresh_lists._frequencies.cache_clear()
    assert fresh_lists.word_log_likelihoods(WORDS, ["es", "fr", "de"]) == built


def test_a_cache_that_cannot_be_written_leaves_the_lists_in_memory(fresh_lists, tmp_path, caplog):
    (tmp_path / "bridge-home").write_text("a file where the cache folder would go")
    scores = fresh_lists.word_log_likelihoods(["gracias"], ["es", "pt"])
    assert scores["es"] > scores["pt"]
    assert "kept in memory" in caplog.text
