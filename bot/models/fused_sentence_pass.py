"""A mean-pooled BERT-style sentence encoder's forward pass through fused blocks.

sentence-transformers runs a Hugging Face model block by block, about sixty small
operations a block, in float32. For the sentence encoders Bridge ships and most it can be
pointed at (e5, LaBSE and other BERT or XLM-RoBERTa models with mean pooling), the same
function is: the model's embeddings, its blocks as torch's fused encoder layer
(bot/models/fused_layers.py), the mean over the text's tokens, L2 normalisation. Computed
that way a customer's message costs well under the sentence-transformers pass, and about
half again in bfloat16 on a CPU with bfloat16 matrix instructions (bot/models/cpu_inference.py);
bfloat16 moves an embedding by a cosine of about 1e-4, far below what separates two
intents or two answers. Every embedding of a process comes from one such pass, batches
(training, indexing) and single turns alike, so a stored vector and a customer's vector are
computed the same way. A model of another shape returns None and keeps sentence-transformers'
own pass; a model the fused pass takes gives up its own blocks, so only the model's
embeddings and tokenizer stay in use.

Example:
    >>> fused = FusedSentencePass.of(sentence_transformer, precision="auto")
    >>> fused.embed(["query: Wo ist meine Bestellung?"], batch_size=32).shape
    (1, 384)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.models.cpu_inference import uses_bfloat16
from bot.models.embedding_rows import EmbeddingRows
from bot.models.fused_layers import fused_copies, run_fused


# Texts are padded to a multiple of this many tokens. The CPU's matrix library keeps what it
# prepares for each input shape for the life of the process (about 4 MB a shape for e5 in
# bfloat16), so a shape per token length would hold hundreds of MB once customers have
# written messages of every length; in steps of 8 the shapes stay few, for about 4 tokens
# of padding a message. The padding is masked: it changes no embedding.
TOKEN_MULTIPLE = 8
# The word-embedding matrix in a BERT-style model's weights (with or without a model prefix).
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Sentence embeddings as e5 makes them: the mean over the real tokens, L2-normalised."""
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1)


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, so padding stays short."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def padded_token_ids(
    token_ids: Sequence[list[int]], pad_id: int, multiple: int = 1, limit: int | None = None
) -> tuple[Any, Any]:
    """Token id lists padded with `pad_id` to the longest, rounded up to a `multiple` of
    tokens but not beyond `limit`, and their mask (1 for real tokens)."""
    import torch

    real = max(len(ids) for ids in token_ids)
    longest = -(-real // multiple) * multiple
    if limit is not None:
        longest = max(min(longest, limit), real)
    ids = torch.full((len(token_ids), longest), pad_id, dtype=torch.long)
    mask = torch.zeros(len(token_ids), longest, dtype=torch.long)
    for row, sequence in enumerate(token_ids):
        ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
        mask[row, : len(sequence)] = 1
    return ids, mask


class FusedSentencePass:
    """The embeddings, fused blocks and mean pooling of one loaded sentence-transformers model."""

    def __init__(self, transformer: Any, blocks: list[Any], rows: EmbeddingRows | None = None) -> None:
        self.embeddings = transformer.auto_model.embeddings
        self.rows = rows
        self.tokenizer = transformer.tokenizer
        self.max_length = int(transformer.max_seq_length or self.tokenizer.model_max_length)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.width = int(transformer.auto_model.config.hidden_size)
        self.blocks = blocks

    @classmethod
    def of(cls, model: Any, precision: str, folder: str | os.PathLike | None = None) -> FusedSentencePass | None:
        """The fused pass of `model` (a SentenceTransformer) in `precision` ("auto", "bfloat16",
        "float32"), or None when the model is not a mean-pooled BERT-style encoder. With the
        model's `folder`, word embeddings are read from its weights file row by row
        (bot/models/embedding_rows.py) where that file holds them."""
        import torch

        modules = list(model)
        names = [type(module).__name__ for module in modules]
        if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]):
            return None
        if modules[1].get_config_dict().get("pooling_mode") != "mean":
            return None
        encoder = modules[0].auto_model
        layers = getattr(getattr(encoder, "encoder", None), "layer", None)
        if layers is None or not hasattr(encoder, "embeddings"):
            return None
        dtype = torch.bfloat16 if uses_bfloat16(precision) else torch.float32
        blocks = fused_copies(layers, encoder.config, dtype)
        if blocks is None:
            return None
        rows = EmbeddingRows.find(folder, WORD_EMBEDDINGS) if folder is not None else None
        if rows is not None and not rows.matches(encoder.embeddings.word_embeddings.weight):
            rows = None  # the file is not what the model was loaded from: keep the loaded matrix
        fused = cls(modules[0], blocks, rows)
        # The fused copies are the blocks now: the model's own (and its pooler, which mean
        # pooling never uses) would be a second copy of the same weights, about 85 MB of e5;
        # likewise the loaded word-embedding matrix once its rows are read from the file.
        # Removed rather than emptied, so anything still running the model's own pass fails
        # loudly instead of embedding without them.
        del encoder.encoder
        encoder.pooler = None
        if rows is not None:
            del encoder.embeddings.word_embeddings
        return fused

    def embed(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """L2-normalised float32 embeddings of `texts` (prompts already prepended), rows in
        input order; texts longer than the model's maximum length are truncated, as
        sentence-transformers does."""
        import torch

        token_ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        vectors = np.zeros((len(texts), self.width), dtype=np.float32)
        with torch.inference_mode():
            for batch in length_batches([len(ids) for ids in token_ids], batch_size):
                texts_ids = [token_ids[i] for i in batch]
                ids, mask = padded_token_ids(texts_ids, self.pad_id, TOKEN_MULTIPLE, self.max_length)
                hidden = run_fused(self.blocks, self._embedded(ids), mask)
                vectors[batch] = mean_pool(hidden, mask).numpy()
        return vectors

    def _embedded(self, ids: Any) -> Any:
        """The embeddings layer's output for padded token ids."""
        if self.rows is None:
            return self.embeddings(input_ids=ids)
        # Given the rows instead of the ids, the layer numbers the positions in order from the
        # first token; from the ids it gives the padding a position of its own. The real tokens
        # come first, so only the padding's positions differ, and the mask leaves it out.
        return self.embeddings(inputs_embeds=self.rows.lookup(ids))
