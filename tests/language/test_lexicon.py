"""The chat lexicon: which languages use a short chat word, and which words carry none."""

from bot.language.lexicon import CHAT_WORDS, COMMON_WORDS, chat_word_languages, is_neutral, lexicon_votes


def test_chat_words_name_their_languages():
    assert chat_word_languages("Danke") == {"de"}
    assert chat_word_languages("sí") == {"es"}
    assert chat_word_languages("si") == {"es", "fr", "it"}
    assert chat_word_languages("Bestellung") == frozenset()


def test_acknowledgements_carry_no_language():
    assert all(is_neutral(word) for word in ("ok", "OK", "lol", "hmm"))
    assert not is_neutral("danke")


def test_common_words_add_evidence_but_are_not_chat_words():
    assert chat_word_languages("order") == frozenset()
    assert lexicon_votes(["my", "order"], ["en", "de"]) == {"en": 2, "de": 0}
    assert lexicon_votes(["my", "order"], ["en", "de"], chat_only=True) == {"en": 0, "de": 0}


def test_every_word_is_lower_case():
    for lexicon in (CHAT_WORDS, COMMON_WORDS):
        assert all(word == word.lower() for words in lexicon.values() for word in words.split())
