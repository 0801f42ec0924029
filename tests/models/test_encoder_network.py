"""EncoderNetwork: fused prediction computes what training's blocks compute; trained state
round-trips; the fingerprint tells frozen weights apart; a non-BERT model is refused clearly."""

from __future__ import annotations

import numpy as np
import pytest

from bot.models.encoder_network import EncoderNetwork
from bot.models.fused_sentence_pass import length_batches
from tests.helpers.tiny_encoder import build_tiny_encoder

TEXTS = ["where is my order", "hello", "refund my payment please now", "hi"]


def network(folder, seed=0, trainable_layers=2) -> EncoderNetwork:
    return EncoderNetwork(folder, num_labels=3, trainable_layers=trainable_layers, max_length=16, seed=seed)


def training_path_logits(net: EncoderNetwork, texts):
    """Logits the way training computes them: frozen part once, then the trained blocks."""
    import torch

    with torch.inference_mode():
        return net.logits(net.lower(net.tokenize(texts)), training=False).numpy()


@pytest.mark.parametrize("encoder", ["tiny_bert", "tiny_xlmr"])
def test_prediction_in_one_fused_pass_matches_the_training_path(encoder, request):
    net = network(request.getfixturevalue(encoder))
    net.set_training(False)
    expected = training_path_logits(net, TEXTS)
    net.prepare_for_prediction(bfloat16=False)
    assert net.fused_layers is not None and len(net.fused_layers) == 3
    assert np.allclose(net.predict_logits(TEXTS, batch_size=2), expected, atol=1e-5)  # rows in input order
    net.warm_up()  # every token length once: nothing to check but that it runs
    assert np.allclose(net.predict_logits(TEXTS[:1], batch_size=2), expected[:1], atol=1e-5)


def test_only_the_upper_layers_and_the_head_train(tiny_bert):
    net = network(tiny_bert, trainable_layers=1)
    names = set(net.trainable_parameters())
    assert net.frozen_layers == 2
    assert {n.split(".")[1] for n in names if n.startswith("layers.")} == {"2"} and "head.weight" in names
    assert not any(p.requires_grad for p in net.encoder.embeddings.parameters())


def test_stored_state_reloads_into_a_fresh_network(tiny_bert):
    import torch

    trained = network(tiny_bert, seed=1)
    with torch.no_grad():
        for parameter in trained.trainable_parameters().values():
            parameter.add_(0.01)
    trained.round_to("float16")
    fresh = network(tiny_bert, seed=2)
    fresh.load_state(trained.state_to_save("float16"))
    for net in (trained, fresh):
        net.set_training(False)
    assert np.array_equal(training_path_logits(fresh, TEXTS), training_path_logits(trained, TEXTS))
    with pytest.raises(ValueError, match="retrain with `rasa train`"):
        fresh.load_state({})


def test_fingerprint_tells_other_frozen_weights_apart(tiny_bert, tmp_path):
    other = build_tiny_encoder(tmp_path / "other", "bert", seed=7)
    assert network(tiny_bert).frozen_fingerprint() == network(tiny_bert, seed=5).frozen_fingerprint()
    assert network(tiny_bert).frozen_fingerprint() != network(other).frozen_fingerprint()


def test_a_model_without_a_block_stack_is_refused_with_the_alternative(tmp_path):
    from transformers import GPT2Config, GPT2Model

    decoder = GPT2Model(GPT2Config(n_embd=16, n_layer=1, n_head=2, vocab_size=10, n_positions=8))
    with pytest.raises(ValueError, match="FrozenEncoderIntentClassifier"):
        EncoderNetwork._find_layers(decoder, tmp_path)


def test_length_batches_group_similar_lengths():
    assert length_batches([5, 1, 4, 2, 3], 2) == [[1, 3], [4, 2], [0]]
