"""Builds tiny random-weight model folders for tests: a Marian (opus-mt layout) and an NLLB
(M2M100 architecture, NLLB tokenizer with language codes). They translate badly but load,
batch and generate exactly like the real folders."""

from __future__ import annotations

from pathlib import Path

WORDS = (
    "your order has shipped and will arrive on monday thanks for shopping at please visit to reset "
    "password or write the is back in stock you can pay with seu pedido foi enviado e chegará na "
    "segunda obrigado por comprar visite para redefinir senha ou escreva X1 X2 X3 X4 . , ! ?"
).split()


def build_tiny_marian(folder: Path) -> Path:
    """Saves a 1-layer Marian model and a word-level fast tokenizer into `folder`."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>"]
    vocabulary = {token: i for i, token in enumerate(specials + sorted(set(WORDS)))}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    config = MarianConfig(
        vocab_size=len(vocabulary),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        forced_eos_token_id=1,
        max_length=24,
    )
    torch.manual_seed(0)
    MarianMTModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


NLLB_CODES = ("eng_Latn", "por_Latn", "deu_Latn")


def build_tiny_nllb(folder: Path) -> Path:
    """Saves a 1-layer M2M100 model with an NLLB fast tokenizer knowing English, Portuguese
    and German into `folder`."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocabulary = {token: i for i, token in enumerate(specials + sorted(set(WORDS)) + list(NLLB_CODES) + ["<mask>"])}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = NllbTokenizerFast(
        tokenizer_object=tokenizer, src_lang="eng_Latn", tgt_lang="por_Latn", additional_special_tokens=list(NLLB_CODES)
    )
    config = M2M100Config(
        vocab_size=len(vocabulary),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=1,
        eos_token_id=2,
        bos_token_id=0,
        decoder_start_token_id=2,
    )
    torch.manual_seed(0)
    M2M100ForConditionalGeneration(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
