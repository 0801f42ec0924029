"""BERT-style transformer blocks as torch's fused encoder layer, for prediction.

In eval mode `torch.nn.TransformerEncoderLayer` runs a whole block (attention, feed-forward
network, both layer norms) as one native operation instead of the ~60 small operations of a
Hugging Face block. A BERT block (BERT, XLM-RoBERTa, e5, LaBSE) computes the same function:
post-layer-norm, exact GELU, absolute positions added before the first block. So a loaded
classifier can predict with fused copies of its blocks; training keeps the Hugging Face
blocks, whose gradients the fused operation does not compute. The fused operation does not
run under autocast, so the copies hold their weights in the precision they compute in.

Example:
    >>> blocks = fused_copies(encoder.encoder.layer, encoder.config, torch.bfloat16)
    >>> hidden = run_fused(blocks, hidden, mask)  # blocks is None: not BERT-style blocks
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

# Where each weight of a Hugging Face BERT block sits, by the fused layer's own names.
_BLOCK_PARTS = {
    "self_attn.out_proj": "attention.output.dense",
    "norm1": "attention.output.LayerNorm",
    "linear1": "intermediate.dense",
    "linear2": "output.dense",
    "norm2": "output.LayerNorm",
}
_QKV = ("attention.self.query", "attention.self.key", "attention.self.value")


def _module(root: Any, dotted: str) -> Any:
    for name in dotted.split("."):
        root = getattr(root, name, None)
    return root


def is_bert_block_stack(layers: Sequence[Any], config: Any) -> bool:
    """Whether `layers` are encoder-only BERT blocks that the fused layer computes exactly."""
    plain_encoder = (
        getattr(config, "hidden_act", None) == "gelu"
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
        and not getattr(config, "is_decoder", False)
        and not getattr(config, "add_cross_attention", False)
    )
    parts = list(_BLOCK_PARTS.values()) + list(_QKV)
    return plain_encoder and all(_module(layer, part) is not None for layer in layers for part in parts)


def fused_copies(layers: Sequence[Any], config: Any, dtype: Any) -> Optional[List[Any]]:
    """Fused copies of `layers` in `dtype` (eval mode, no gradients), or None when they
    are not BERT blocks (`is_bert_block_stack`): the caller then keeps running the originals."""
    import torch

    if not is_bert_block_stack(layers, config):
        return None
    copies = []
    for layer in layers:
        fused = torch.nn.TransformerEncoderLayer(
            d_model=config.hidden_size,
            nhead=config.num_attention_heads,
            dim_feedforward=config.intermediate_size,
            dropout=0.0,
            activation="gelu",
            layer_norm_eps=config.layer_norm_eps,
            batch_first=True,
            norm_first=False,
        )
        with torch.no_grad():
            projections = [_module(layer, name) for name in _QKV]
            fused.self_attn.in_proj_weight.copy_(torch.cat([p.weight for p in projections]))
            fused.self_attn.in_proj_bias.copy_(torch.cat([p.bias for p in projections]))
            for target, source in _BLOCK_PARTS.items():
                _module(fused, target).weight.copy_(_module(layer, source).weight)
                _module(fused, target).bias.copy_(_module(layer, source).bias)
        fused.requires_grad_(False)
        copies.append(fused.eval().to(dtype))
    return copies


def run_fused(blocks: Sequence[Any], hidden: Any, mask: Any) -> Any:
    """Hidden states (batch, tokens, width) through `blocks`; `mask` is 1 for real tokens and
    0 for padding. Returns float32 states whatever precision the blocks compute in."""
    import torch

    if not blocks:
        return hidden
    padding = mask == 0
    if not bool(padding.any()):
        padding = None  # one text, or texts of one length: no mask to apply
    with torch.autocast(device_type="cpu", enabled=False):
        hidden = hidden.to(blocks[0].linear1.weight.dtype)
        native = getattr(torch, "_transformer_encoder_layer_fwd", None)
        if native is None or torch.is_grad_enabled():
            for block in blocks:
                hidden = block(hidden, src_key_padding_mask=padding)
            return hidden.float()
        # The fused operation itself, as the layer's own forward calls it in eval mode without
        # gradients, minus the layer's checks of that (about 0.15 ms a block, 12% of a short
        # message's pass) and with the mask merged once for all blocks.
        merged, kind = blocks[0].self_attn.merge_masks(None, padding, hidden)
        for block in blocks:
            hidden = native(hidden, *_native_arguments(block), merged, kind)
    return hidden.float()


def _native_arguments(block: Any) -> tuple:
    """The fused operation's arguments of one block, in its order, before the mask."""
    attention = block.self_attn
    return (
        attention.embed_dim,
        attention.num_heads,
        attention.in_proj_weight,
        attention.in_proj_bias,
        attention.out_proj.weight,
        attention.out_proj.bias,
        True,  # GELU, the activation fused_copies builds
        block.norm_first,
        block.norm1.eps,
        block.norm1.weight,
        block.norm1.bias,
        block.norm2.weight,
        block.norm2.bias,
        block.linear1.weight,
        block.linear1.bias,
        block.linear2.weight,
        block.linear2.bias,
    )
