"""The sentence encoder: a customer's single turn embeds as it does inside a batch and as
sentence-transformers' own pass would, once per turn, without moving the model."""

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
    # In bfloat16 a batch's padding changes the order of a sum, not the text's neighbours.
    assert float(alone[0] @ batch[0]) > 0.9999
    assert torch.get_num_threads() == 2  # one-thread prediction does not leak into the process


def test_missing_encoder_folder_says_how_to_build_one(tmp_path):
    with pytest.raises(EncoderNotFoundError, match="bridge models"):
        check_encoder_dir(tmp_path / "nowhere")


def test_a_turn_is_embedded_once_although_several_components_ask_for_it(tiny_bert):
    classifier_side = load_encoder(str(tiny_bert), threads=2)
    retriever_side = load_encoder(f"{tiny_bert}/.", threads=1)  # another spelling, other threads
    assert retriever_side is classifier_side  # one copy of the weights in the process

    passes = []
    encode = classifier_side._encode_many
    classifier_side._encode_many = lambda *args, **kwargs: passes.append(1) or encode(*args, **kwargs)
    first = classifier_side.embed_queries(["Where is my order 10045?"])
    again = retriever_side.embed_queries(["Where is my order 10045?"])
    assert len(passes) == 1 and np.array_equal(first, again)
    again[0, 0] += 1.0  # a caller changing its copy does not change what the next caller gets
    assert np.array_equal(retriever_side.embed_queries(["Where is my order 10045?"]), first)
    retriever_side.embed_passages(["Where is my order 10045?"])  # the passage side is another embedding
    assert len(passes) == 2


def test_encoding_does_not_move_the_model_it_already_holds(tiny_bert, monkeypatch):
    from sentence_transformers import SentenceTransformer

    from bot.models.resident_sentence_transformer import ResidentSentenceTransformer

    resident = ResidentSentenceTransformer(str(tiny_bert), device="cpu")
    plain = SentenceTransformer(str(tiny_bert), device="cpu")
    walks = []
    apply = torch.nn.Module._apply
    monkeypatch.setattr(
        torch.nn.Module, "_apply", lambda module, *a, **k: walks.append(module) or apply(module, *a, **k)
    )
    ours = resident.encode(["Where is my order 10046?"], normalize_embeddings=True)
    assert walks == []  # encode's `to("cpu")` on a model on the CPU walks no layer
    assert resident.to(torch.float64) is resident and walks  # other moves are torch's own
    resident.to(torch.float32)
    theirs = plain.encode(["Where is my order 10046?"], normalize_embeddings=True)
    assert np.allclose(ours[0], theirs[0], atol=1e-6)


TEXTS = [
    "Wo ist meine Bestellung 10045?",
    "¿Puedo devolver unos zapatos usados?",
    "注文をキャンセルしたいです",
    "मेरा रिफंड कब आएगा?",
    "",
    "order " * 700,  # longer than the model reads: truncated like sentence-transformers does
]


@pytest.mark.slow
@pytest.mark.parametrize("precision, closest", [("float32", 0.999999), ("bfloat16", 0.9999)])
def test_the_fused_pass_embeds_what_sentence_transformers_does(encoder_dir, precision, closest):
    from sentence_transformers import SentenceTransformer

    from bot.models.encoder import SentenceEncoder, tokenizer_options

    encoder = SentenceEncoder(encoder_dir, threads=2, precision=precision)
    assert encoder.fused is not None  # e5 is a mean-pooled BERT-style encoder
    ours = encoder.embed_queries(TEXTS)
    reference = SentenceTransformer(str(encoder_dir), device="cpu", processor_kwargs=tokenizer_options(encoder_dir))
    theirs = reference.encode(TEXTS, prompt_name="query", normalize_embeddings=True)
    assert np.all(np.sum(ours * theirs, axis=1) > closest)
    singles = np.vstack([encoder.embed_queries([text]) for text in TEXTS])
    assert np.all(np.sum(singles * theirs, axis=1) > closest)


@pytest.mark.slow
def test_the_fused_pass_leaves_no_second_copy_of_the_blocks(encoder_dir):
    from bot.models.encoder import SentenceEncoder

    encoder = SentenceEncoder(encoder_dir, threads=1)
    transformer = encoder.model[0].auto_model
    assert not hasattr(transformer, "encoder") and transformer.pooler is None
    # the word embeddings are read from the weights file, row by row
    assert encoder.fused.rows is not None and not hasattr(transformer.embeddings, "word_embeddings")
    with pytest.raises(AttributeError):
        encoder.model.encode(["where is my order"])  # its own pass would run without blocks


def test_a_model_the_fused_pass_does_not_compute_keeps_its_own_pass(tiny_bert, tmp_path):
    from sentence_transformers import SentenceTransformer, models

    from bot.models.encoder import SentenceEncoder

    transformer = models.Transformer(str(tiny_bert))
    cls_pooled = SentenceTransformer(modules=[transformer, models.Pooling(32, pooling_mode="cls")])
    cls_pooled.save(str(tmp_path / "cls"))
    encoder = SentenceEncoder(tmp_path / "cls", threads=1)
    assert encoder.fused is None
    assert np.allclose(
        encoder.embed_queries(["where is my order"]),
        cls_pooled.encode(["where is my order"], normalize_embeddings=True),
        atol=1e-6,
    )
