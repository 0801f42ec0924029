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


def test_a_turn_is_embedded_once_although_several_components_ask_for_it(tiny_bert):
    classifier_side = load_encoder(str(tiny_bert), threads=2)
    retriever_side = load_encoder(f"{tiny_bert}/.", threads=1)  # another spelling, other threads
    assert retriever_side is classifier_side  # one copy of the weights in the process

    passes = []
    forward = classifier_side.model.forward
    classifier_side.model.forward = lambda *args, **kwargs: passes.append(1) or forward(*args, **kwargs)
    first = classifier_side.embed_queries(["Where is my order 10045?"])
    again = retriever_side.embed_queries(["Where is my order 10045?"])
    assert len(passes) == 1 and np.array_equal(first, again)
    again[0, 0] += 1.0  # a caller changing its copy does not change what the next caller gets
    assert np.array_equal(retriever_side.embed_queries(["Where is my order 10045?"]), first)
    retriever_side.embed_passages(["Where is my order 10045?"])  # the passage side is another embedding
    assert len(passes) == 2


def test_encoding_does_not_move_the_model_it_already_holds(tiny_bert, monkeypatch):
    from sentence_transformers import SentenceTransformer

    encoder = load_encoder(str(tiny_bert), threads=1)
    plain = SentenceTransformer(str(tiny_bert), device="cpu")
    walks = []
    apply = torch.nn.Module._apply
    monkeypatch.setattr(
        torch.nn.Module, "_apply", lambda module, *a, **k: walks.append(module) or apply(module, *a, **k)
    )
    ours = encoder.embed_queries(["Where is my order 10046?"])
    assert walks == []  # encode's `to("cpu")` on a model on the CPU walks no layer
    assert encoder.model.to(torch.float64) is encoder.model and walks  # other moves are torch's own
    encoder.model.to(torch.float32)
    theirs = plain.encode(["Where is my order 10046?"], prompt_name="query", normalize_embeddings=True)
    assert np.allclose(ours[0], theirs[0], atol=1e-6)
