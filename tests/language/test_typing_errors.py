"""Synthetic typing errors: one keyboard slip in one word of a training example."""

import random

import pytest

from bot.language.typing_errors import MIN_WORD_LETTERS, with_typing_error


def edit_kind(original: str, noisy: str) -> str:
    """Which single keyboard slip turns `original` into `noisy` ("" when none does)."""
    if len(noisy) == len(original) - 1 and any(original[:i] + original[i + 1 :] == noisy for i in range(len(original))):
        return "omit"
    if len(noisy) == len(original) + 1 and any(noisy[:i] + noisy[i + 1 :] == original for i in range(len(noisy))):
        return "insert"
    if len(noisy) == len(original):
        diff = [i for i, (a, b) in enumerate(zip(original, noisy)) if a != b]
        if len(diff) == 1:
            return "replace"
        if (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and original[diff[0]] == noisy[diff[1]]
            and original[diff[1]] == noisy[diff[0]]
        ):
            return "swap"
    return ""


@pytest.mark.parametrize(
    "text", ["I want to cancel my order", "Wo ist meine Bestellung?", "Где мой заказ", "¿Dónde está mi pedido?"]
)
def test_a_copy_has_one_slip_in_one_word_and_keeps_the_rest(text):
    rng = random.Random(0)
    kinds = set()
    for _ in range(200):
        noisy = with_typing_error(text, rng)
        assert noisy is not None and noisy != text
        changed = [(a, b) for a, b in zip(text.split(" "), noisy.split(" ")) if a != b]
        assert len(changed) == 1 and len(text.split(" ")) == len(noisy.split(" "))
        kind = edit_kind(*changed[0])
        assert kind, changed[0]
        kinds.add(kind)
    assert {"swap", "omit", "insert"} <= kinds


def test_a_wrong_or_extra_key_is_one_that_touches_it_on_the_keyboard():
    rng = random.Random(1)
    seen = set()
    for _ in range(300):
        seen |= set(with_typing_error("aaa", rng))
    assert seen == set("aqwsz")  # the keys around "a"; "x" and "e" are one key too far


def test_scripts_without_letter_case_and_short_words_get_no_copy():
    rng = random.Random(0)
    for text in ["我的订单在哪里", "注文はどこですか", "주문 취소", "طلبي لم يصل", "मेरा ऑर्डर कहाँ है", "ok", "no"]:
        assert with_typing_error(text, rng) is None
    assert MIN_WORD_LETTERS == 3


def test_the_same_seed_gives_the_same_copies():
    texts = ["where is my order", "cancel it please", "Rückerstattung bitte"]
    first = [with_typing_error(t, random.Random(5)) for t in texts]
    assert first == [with_typing_error(t, random.Random(5)) for t in texts]
