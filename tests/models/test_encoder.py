"""The sentence encoder: a customer's single turn embeds as it does inside a batch."""

import numpy as np
import pytest
import torch

from bot.models.encoder import EncoderNotFoundError, check_encoder_dir, load_encoder


@pytest.mark.slow
def test_one_turn_embeds_like_the_same_turn_in_a_batch(encoder_dir):
    encoder = load_encoder(str(encoder_dir), threads=2)
    torch.set_num_threads(2)
    alone = encoder.embed_queries(["Wo ist meine Bestellung?"])
    batch = encoder.embed_queries(["Wo ist meine Bestellung?", "I want my money back"])
    assert alone.shape == (1, 384)
    assert np.allclose(alone[0], batch[0], atol=1e-5)
    assert torch.get_num_threads() == 2  # one-thread prediction does not leak into the process


def test_missing_encoder_folder_says_how_to_build_one(tmp_path):
    with pytest.raises(EncoderNotFoundError, match="bridge models"):
        check_encoder_dir(tmp_path / "nowhere")
