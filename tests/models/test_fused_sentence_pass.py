"""Padding of the fused sentence pass: few input shapes, and never a token lost."""

from bot.models.fused_sentence_pass import padded_token_ids


def test_texts_are_padded_to_a_multiple_of_tokens_and_masked():
    ids, mask = padded_token_ids([[5, 6, 7], [5, 6, 7, 8, 9]], pad_id=1, multiple=8)
    assert ids.shape == (2, 8)
    assert ids[0].tolist() == [5, 6, 7, 1, 1, 1, 1, 1]
    assert mask.sum(1).tolist() == [3, 5]


def test_padding_stops_at_the_models_length_and_never_cuts_a_text():
    ids, _ = padded_token_ids([[5] * 5], pad_id=1, multiple=8, limit=6)
    assert ids.shape == (1, 6)
    ids, mask = padded_token_ids([[5] * 9], pad_id=1, multiple=8, limit=6)
    assert ids.shape == (1, 9) and int(mask.sum()) == 9
