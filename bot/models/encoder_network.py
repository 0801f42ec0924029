"""The network the fine-tuned intent classifier trains and predicts with.

A pretrained Hugging Face encoder (BERT-style: BERT, XLM-RoBERTa, RoBERTa, e5, LaBSE) split
at `frozen_layers`, e5's mean pooling, and a linear intent head. Training runs the frozen
part (embeddings and the lower blocks) once per text and trains only the upper blocks and
the head (bot/models/fine_tuning.py). A loaded network predicts with all blocks in one pass,
through fused copies of them (bot/models/fused_layers.py), and is warmed up on every token
length first. Its trained tensors are what the classifier stores; a fingerprint of the frozen
weights lets a reload refuse an encoder other than the one trained on.

Example:
    >>> network = EncoderNetwork(Path("build/encoders/multilingual-e5-small"), 22, 4, 64, seed=42)
    >>> network.prepare_for_prediction(bfloat16=False)
    >>> network.predict_logits(["Wo ist meine Bestellung?"], batch_size=64).shape
    (1, 22)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.models.encoder import encoder_load_error, tokenizer_options
from bot.models.fused_layers import fused_copies, run_fused
from bot.models.fused_sentence_pass import length_batches, mean_pool, padded_token_ids
from bot.models.logistic_head import fit_logistic_head

STORAGE_DTYPES = ("float16", "float32")


class EncoderNetwork:
    """A Hugging Face encoder split at `frozen_layers`, mean pooling and a linear head.

    The frozen part (embeddings and the lower layers) runs once per text under no_grad; the
    upper part and the head are what fine-tuning trains. Prediction runs all blocks in one
    pass, through fused copies of them once `prepare_for_prediction` has made them.
    """

    def __init__(self, model_path: Path, num_labels: int, trainable_layers: int, max_length: int, seed: int) -> None:
        """Loads the encoder from `model_path` and adds a `num_labels` head; the head's start
        (and dropout's) follow `seed`. `trainable_layers` counts blocks from the top."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(seed)
        self.torch = torch
        try:
            self.encoder = AutoModel.from_pretrained(
                str(model_path), local_files_only=True, attn_implementation="eager"
            )
            self.tokenizer = AutoTokenizer.from_pretrained(
                str(model_path), local_files_only=True, **tokenizer_options(model_path)
            )
        except Exception as error:  # whatever a broken folder makes transformers raise
            raise encoder_load_error(model_path, error) from error
        self.layers = self._find_layers(self.encoder, model_path)
        self.frozen_layers = max(0, len(self.layers) - trainable_layers)
        self.max_length = max_length
        self.prompt = self._query_prompt(model_path)
        hidden = int(self.encoder.config.hidden_size)
        self.dropout = torch.nn.Dropout(float(getattr(self.encoder.config, "hidden_dropout_prob", 0.1) or 0.1))
        self.head = torch.nn.Linear(hidden, num_labels)
        self.fused_layers: list[Any] | None = None  # set by prepare_for_prediction
        for parameter in self.encoder.parameters():
            parameter.requires_grad = False
        for layer in self.layers[self.frozen_layers :]:
            for parameter in layer.parameters():
                parameter.requires_grad = True
        self.encoder.eval()

    @staticmethod
    def _find_layers(encoder: Any, model_path: Path) -> Any:
        """The stack of transformer blocks of BERT-style encoders (BERT, XLM-R, RoBERTa, ...)."""
        for owner in ("encoder", "transformer"):
            layers = getattr(getattr(encoder, owner, None), "layer", None)
            if layers is not None and hasattr(encoder, "embeddings"):
                return layers
        raise ValueError(
            f"MultilingualIntentClassifier: the model in '{model_path}' ({type(encoder).__name__}) has no "
            f"embeddings + encoder.layer stack, which fine-tuning needs. Use a BERT-style encoder "
            f"(BERT, XLM-RoBERTa, RoBERTa, e5, LaBSE), or FrozenEncoderIntentClassifier, which "
            f"works with any sentence encoder."
        )

    @staticmethod
    def _query_prompt(model_path: Path) -> str:
        """e5-style models expect a "query: " prefix; sentence-transformers folders say so."""
        settings = model_path / "config_sentence_transformers.json"
        if settings.is_file():
            return str(json.loads(settings.read_text()).get("prompts", {}).get("query", ""))
        return ""

    def trainable_parameters(self) -> dict[str, Any]:
        """Named tensors that training changes (upper layers and head)."""
        named = {
            f"layers.{i}.{n}": p
            for i in range(self.frozen_layers, len(self.layers))
            for n, p in self.layers[i].named_parameters()
        }
        named.update({f"head.{n}": p for n, p in self.head.named_parameters()})
        return named

    def frozen_fingerprint(self) -> str:
        """A cheap checksum of the frozen weights the stored layers were trained on top of."""
        digest = hashlib.sha256()
        embeddings = self.encoder.embeddings.word_embeddings.weight
        digest.update(embeddings[: min(512, embeddings.shape[0])].detach().float().numpy().tobytes())
        if self.frozen_layers:
            for _, parameter in sorted(self.layers[self.frozen_layers - 1].named_parameters()):
                digest.update(parameter.detach().float().numpy().tobytes())
        return digest.hexdigest()[:16]

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (prompt prepended, truncated to max_length)."""
        encoded = self.tokenizer([self.prompt + t for t in texts], truncation=True, max_length=self.max_length)
        return encoded["input_ids"]

    def _pad_states(self, states: Sequence[Any]) -> tuple[Any, Any]:
        """Per-text state tensors padded with zeros to the longest, and their mask."""
        torch = self.torch
        longest = max(len(s) for s in states)
        mask = torch.zeros(len(states), longest, dtype=torch.long)
        padded = torch.zeros(len(states), longest, states[0].shape[-1], dtype=states[0].dtype)
        for row, state in enumerate(states):
            mask[row, : len(state)] = 1
            padded[row, : len(state)] = state
        return padded, mask

    def _run_layers(self, hidden: Any, mask: Any, start: int, stop: int) -> Any:
        """Hidden states through transformer blocks start..stop-1: their fused copies once
        `prepare_for_prediction` made them, else the Hugging Face blocks."""
        if self.fused_layers is not None:
            return run_fused(self.fused_layers[start:stop], hidden, mask)
        additive = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * self.torch.finfo(hidden.dtype).min
        for layer in self.layers[start:stop]:
            output = layer(hidden, attention_mask=additive)
            hidden = output[0] if isinstance(output, tuple) else output
        return hidden

    def _padded_ids(self, token_ids: Sequence[list[int]]) -> tuple[Any, Any]:
        """Token ids padded with the tokenizer's pad id, and their mask."""
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        return padded_token_ids(token_ids, pad)

    def lower(self, token_ids: Sequence[list[int]]) -> list[Any]:
        """Per-text hidden states after the frozen layers (unpadded), computed without grad."""
        ids, mask = self._padded_ids(token_ids)
        with self.torch.no_grad():
            hidden = self.encoder.embeddings(input_ids=ids)
            hidden = self._run_layers(hidden, mask, 0, self.frozen_layers)
        return [hidden[row, : len(sequence)].clone() for row, sequence in enumerate(token_ids)]

    def logits(self, states: Sequence[Any], training: bool) -> Any:
        """Head logits from cached lower-layer states (dropout only while training)."""
        pooled = self.pooled(states)
        return self.head(self.dropout(pooled) if training else pooled)

    def pooled(self, states: Sequence[Any]) -> Any:
        """Sentence embeddings from cached lower-layer states."""
        hidden, mask = self._pad_states(states)
        return mean_pool(self._run_layers(hidden, mask, self.frozen_layers, len(self.layers)), mask)

    def initialise_head(self, states: Sequence[Any], targets: np.ndarray, C: float, max_iter: int) -> None:
        """Starts the head from logistic regression on the pretrained embeddings, so that
        fine-tuning begins where the frozen baseline ends instead of from noise."""
        with self.torch.inference_mode():
            features = np.concatenate(
                [self.pooled(list(states[i : i + 64])).numpy() for i in range(0, len(states), 64)]
            )
        weight, bias = fit_logistic_head(features, targets, C, max_iter)
        with self.torch.no_grad():
            self.head.weight.copy_(self.torch.tensor(weight, dtype=self.torch.float32))
            self.head.bias.copy_(self.torch.tensor(bias, dtype=self.torch.float32))

    def set_training(self, training: bool) -> None:
        """Dropout on in the trained layers only; the frozen part always runs in eval mode."""
        for layer in self.layers[self.frozen_layers :]:
            layer.train(training)
        self.dropout.train(training)

    def _top_states(self, token_ids: Sequence[list[int]]) -> tuple[Any, Any]:
        """Padded hidden states after every block, and their mask, for prediction."""
        ids, mask = self._padded_ids(token_ids)
        return self._run_layers(self.encoder.embeddings(input_ids=ids), mask, 0, len(self.layers)), mask

    def predict_logits(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Logits for `texts`, batched by length; rows follow the input order. All blocks run
        in one pass (the frozen/trained split only matters to training). The network is left
        in eval mode once trained or loaded, so no call pays for switching modes."""
        token_ids = self.tokenize(texts)
        output = np.zeros((len(texts), self.head.out_features), dtype=np.float32)
        with self.torch.inference_mode():
            for batch in length_batches([len(t) for t in token_ids], batch_size):
                hidden, mask = self._top_states([token_ids[i] for i in batch])
                output[batch] = self.head(mean_pool(hidden, mask)).float().numpy()
        return output

    def prepare_for_prediction(self, bfloat16: bool) -> None:
        """Makes prediction fast, once, for a loaded model (it is not trained further).

        BERT-style blocks get fused copies in bfloat16 or float32 (bot/models/fused_layers.py).
        Other encoders keep their blocks; for bfloat16 their linear layers' weights are
        stored in bfloat16, which autocast would otherwise convert again on every message,
        a large share of the message's time, to compute the same products.
        """
        dtype = self.torch.bfloat16 if bfloat16 else self.torch.float32
        self.fused_layers = fused_copies(self.layers, self.encoder.config, dtype)
        if self.fused_layers is None and bfloat16:
            for module in list(self.encoder.modules()) + [self.head]:
                if isinstance(module, self.torch.nn.Linear):
                    module.to(self.torch.bfloat16)

    def warm_up(self) -> None:
        """Predicts one text of every token length up to max_length once, so that no
        customer's message pays for a first use of its length: the CPU's matrix library
        prepares its kernels per input shape, and the first message of a new length is
        several times slower than the next ones."""
        shortest = self.tokenize([""])[0]
        filler = self.tokenizer.unk_token_id if self.tokenizer.unk_token_id is not None else shortest[-1]
        with self.torch.inference_mode():
            for length in range(len(shortest), self.max_length + 1):
                self._top_states([shortest[:-1] + [filler] * (length - len(shortest)) + shortest[-1:]])

    def round_to(self, dtype: str) -> None:
        """Rounds the trained tensors to the storage precision, so a reloaded model predicts
        exactly what the freshly trained one does."""
        if dtype == "float16":
            with self.torch.no_grad():
                for parameter in self.trainable_parameters().values():
                    parameter.copy_(parameter.half().float())

    def state_to_save(self, dtype: str) -> dict[str, Any]:
        """The trained tensors in the storage precision (`STORAGE_DTYPES`), ready for safetensors."""
        target = self.torch.float16 if dtype == "float16" else self.torch.float32
        return {name: p.detach().to(target).contiguous() for name, p in self.trainable_parameters().items()}

    def load_state(self, tensors: dict[str, Any]) -> None:
        """Puts stored (or snapshotted) tensors into the trained layers and the head."""
        parameters = self.trainable_parameters()
        missing = sorted(set(parameters) - set(tensors))
        if missing:
            raise ValueError(
                f"MultilingualIntentClassifier: the stored model lacks {missing[:3]}...; retrain with `rasa train`."
            )
        with self.torch.no_grad():
            for name, parameter in parameters.items():
                parameter.copy_(tensors[name].float())
