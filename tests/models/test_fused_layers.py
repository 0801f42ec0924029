"""Fused copies of BERT-style blocks compute what the Hugging Face blocks compute."""

import pytest
import torch
from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

from bot.models.fused_layers import fused_copies, is_bert_block_stack, run_fused

SETTINGS = dict(vocab_size=50, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64)


def hugging_face_states(model, ids, mask):
    with torch.inference_mode():
        return model(input_ids=ids, attention_mask=mask).last_hidden_state


def fused_states(model, blocks, ids, mask):
    with torch.inference_mode():
        return run_fused(blocks, model.embeddings(input_ids=ids), mask)


@pytest.fixture
def batch():
    """Two texts of 7 and 4 tokens, padded to 7."""
    torch.manual_seed(3)
    ids = torch.randint(5, 50, (2, 7))
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3])
    return ids, mask


@pytest.mark.parametrize("architecture", [(BertConfig, BertModel), (XLMRobertaConfig, XLMRobertaModel)])
def test_fused_blocks_give_the_same_states_on_real_and_padded_tokens(architecture, batch):
    config_class, model_class = architecture
    torch.manual_seed(0)
    model = model_class(config_class(**SETTINGS)).eval()
    ids, mask = batch
    expected = hugging_face_states(model, ids, mask)
    blocks = fused_copies(model.encoder.layer, model.config, torch.float32)
    actual = fused_states(model, blocks, ids, mask)
    assert len(blocks) == 3 and not any(p.requires_grad for b in blocks for p in b.parameters())
    real = mask.bool()
    assert torch.allclose(actual[real], expected[real], atol=1e-5)


def test_bfloat16_blocks_return_float32_states_close_to_float32(batch):
    torch.manual_seed(0)
    model = BertModel(BertConfig(**SETTINGS)).eval()
    ids, mask = batch
    expected = hugging_face_states(model, ids, mask)
    actual = fused_states(model, fused_copies(model.encoder.layer, model.config, torch.bfloat16), ids, mask)
    assert actual.dtype == torch.float32
    similarity = torch.nn.functional.cosine_similarity(actual[mask.bool()], expected[mask.bool()], dim=-1)
    assert similarity.min() > 0.99


def test_no_blocks_leave_the_states_alone(batch):
    hidden = torch.ones(2, 7, 32)
    assert run_fused([], hidden, batch[1]) is hidden


@pytest.mark.parametrize(
    "change", [{"hidden_act": "gelu_new"}, {"hidden_act": "relu"}, {"position_embedding_type": "relative_key"}, {"is_decoder": True}]
)
def test_blocks_the_fused_layer_would_compute_differently_are_not_copied(change):
    model = BertModel(BertConfig(**SETTINGS, **change))
    assert not is_bert_block_stack(model.encoder.layer, model.config)
    assert fused_copies(model.encoder.layer, model.config, torch.float32) is None
