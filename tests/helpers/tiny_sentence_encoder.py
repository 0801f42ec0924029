"""Builds a tiny random-weight sentence encoder folder, laid out like the real one.

A 1-layer BERT with a byte-level BPE tokenizer (every text tokenizes, in any script),
mean pooling and L2 normalisation, with e5's "query: " / "passage: " prompts, saved as a
sentence-transformers folder. Its vectors mean nothing, but they are deterministic: the
same text always gets the same vector and different texts different ones, so the tests of
everything around the encoder (the store's commit protocol, the retriever's bookkeeping)
run in seconds without the real weights.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

# Texts the tokenizer's merges are learnt from: any text still tokenizes (byte fallback),
# these only keep common words to a few tokens.
MERGE_CORPUS = (
    "Do you sell gift cards? How do I wash a wool jumper? Which countries do you ship to? "
    "Is there a student discount? Where is my order? I want to cancel my order. "
    "¿Dónde está mi pedido? Wo ist meine Bestellung? Où est ma commande ? 我的订单在哪里？"
)
DIMENSION = 32
MAX_TOKENS = 128


def build_tiny_sentence_encoder(folder: Path, identity: str = "tiny-sentence-encoder") -> Path:
    """Saves the tiny encoder into `folder` and returns it.

    Args:
        folder: where to save (created).
        identity: the provenance the store records as the encoder's fingerprint.
    """
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors, trainers
    from tokenizers.models import BPE
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = Path(folder)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([MERGE_CORPUS], trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[(token, tokenizer.token_to_id(token)) for token in ("[CLS]", "[SEP]")],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=MAX_TOKENS,
    )
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=DIMENSION,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_TOKENS,
        pad_token_id=fast.pad_token_id,
    )
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as transformer_dir:  # sentence-transformers loads modules from a folder
        BertModel(config).save_pretrained(transformer_dir)
        fast.save_pretrained(transformer_dir)
        transformer = models.Transformer(transformer_dir, max_seq_length=MAX_TOKENS)
    pooling = models.Pooling(DIMENSION, pooling_mode="mean")
    encoder = SentenceTransformer(
        modules=[transformer, pooling, models.Normalize()],
        device="cpu",
        prompts={"query": "query: ", "passage": "passage: "},
    )
    encoder.save(str(folder))
    (folder / "bridge_encoder.json").write_text(json.dumps({"source_sha256": identity}))
    return folder
