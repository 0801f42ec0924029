"""Hugging Face seq2seq translation (Marian, NLLB, M2M100) from a local model folder.

The folder is what `save_pretrained` writes (config, weights, tokenizer files); nothing is
ever downloaded (`local_files_only`). The model family is recognised from the tokenizer's
vocabulary: NLLB has codes like `por_Latn`, M2M100 has `__pt__`, anything else is treated
as a single-pair model (Marian opus-mt). Texts are translated in batches, on CPU or GPU.

Settings (endpoints.yml, under translation.backends.<name>):

    type: huggingface
    model_path: models/opus-mt-de-en   # a local folder (required)
    pairs: [de-en]                     # pairs to use it for (required)
    device: cpu                        # cpu | cuda | auto (cuda when available)
    batch_size: 16                     # segments per forward pass
    max_new_tokens: 256                # longest output per segment
    num_beams: 1                       # 1 = greedy (fastest)
    language_codes: {}                 # ISO code -> the model's code, e.g. {pt: por_Latn}
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.language.codes import FLORES_CODES
from bot.translation.base import (
    BackendError,
    ModelFolderError,
    Pair,
    TranslationBackend,
    TranslationConfigError,
    parse_pair,
)

MARIAN, NLLB, M2M100 = "marian", "nllb", "m2m100"
DEVICES = ("cpu", "cuda", "auto")
MAX_INPUT_TOKENS = 512  # longer segments are cut; lines of support answers are far shorter


class HuggingFaceBackend(TranslationBackend):
    """A transformers AutoModelForSeq2SeqLM loaded once, shared by all its pairs."""

    def __init__(
        self,
        name: str,
        model_path: str,
        pairs: Sequence[Pair],
        device: str = "cpu",
        batch_size: int = 16,
        max_new_tokens: int = 256,
        num_beams: int = 1,
        language_codes: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name)
        self.model_path = Path(model_path)
        self._pairs = list(pairs)
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self._lock = threading.Lock()  # tokenizers' src_lang is per-instance state
        self.tokenizer, self.model, self.device = self._load(device)
        self.family = self._family()
        self.language_codes = {**self._default_codes(), **dict(language_codes or {})}
        if self.family == MARIAN and len(self._pairs) != 1:
            raise TranslationConfigError(
                f"translation.backends.{name}.pairs: '{self.model_path}' looks like a single-pair (Marian) model, "
                f"so give exactly one pair, not {len(self._pairs)}."
            )
        if self.family != MARIAN:
            for pair in self._pairs:
                for language in pair:
                    self._language_token(language)

    def _load(self, device: str) -> Any:
        where = f"translation.backends.{self.name}.model_path"
        if not self.model_path.is_dir():
            raise ModelFolderError(
                f"{where}: the model folder '{self.model_path}' does not exist. Save a model there with "
                f"save_pretrained() (config, weights and tokenizer) or fix the path."
            )
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise TranslationConfigError(
                f"translation.backends.{self.name}.device: 'cuda' was asked for but no GPU is visible. "
                "Use 'cpu' or 'auto'."
            )
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(self.model_path), local_files_only=True)
            model = AutoModelForSeq2SeqLM.from_pretrained(str(self.model_path), local_files_only=True)
        except (OSError, ValueError, KeyError) as error:
            raise ModelFolderError(
                f"{where}: the model folder '{self.model_path}' could not be loaded as a seq2seq model and tokenizer "
                f"({error.__class__.__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
                f"It must hold a Marian, NLLB or M2M100 model saved with save_pretrained()."
            ) from error
        model.to(device).eval()
        return tokenizer, model, device

    def _family(self) -> str:
        vocabulary = self.tokenizer.get_vocab()
        if "eng_Latn" in vocabulary:
            return NLLB
        if "__en__" in vocabulary:
            return M2M100
        return MARIAN

    def _default_codes(self) -> dict[str, str]:
        if self.family == NLLB:
            return dict(FLORES_CODES)
        return {}

    def _language_token(self, language: str) -> str:
        """The model's token that names `language`; a language it lacks is a start-up error."""
        code = self.language_codes.get(language, language)
        token = f"__{code}__" if self.family == M2M100 else code
        if token not in self.tokenizer.get_vocab():
            raise TranslationConfigError(
                f"translation.backends.{self.name}: the model in '{self.model_path}' has no language token for "
                f"'{language}' (looked for '{token}'). Map it under language_codes or remove the pair."
            )
        return token

    @property
    def pairs(self) -> Sequence[Pair]:
        return self._pairs

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        if (source, target) not in self._pairs:
            raise BackendError(f"Hugging Face backend '{self.name}' is not configured for {source}-{target}.")
        import torch

        results: list[str] = list(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        generate_kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "num_beams": self.num_beams}
        try:
            with self._lock, torch.inference_mode():
                if self.family != MARIAN:
                    source_code = self.language_codes.get(source, source)
                    self.tokenizer.src_lang = source_code
                    target_token = self._language_token(target)
                    generate_kwargs["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(target_token)
                for start in range(0, len(todo), self.batch_size):
                    batch = todo[start : start + self.batch_size]
                    encoded = self.tokenizer(
                        [texts[i] for i in batch],
                        return_tensors="pt",
                        padding=True,
                        truncation=True,
                        max_length=min(self.tokenizer.model_max_length, MAX_INPUT_TOKENS),
                    )
                    # Only what a seq2seq encoder takes: some tokenizers add token_type_ids.
                    inputs = {k: encoded[k].to(self.device) for k in ("input_ids", "attention_mask") if k in encoded}
                    outputs = self.model.generate(**inputs, **generate_kwargs)
                    decoded = self.tokenizer.batch_decode(outputs, skip_special_tokens=True)
                    for i, text in zip(batch, decoded):
                        results[i] = text.strip()
        except (RuntimeError, ValueError, IndexError) as error:
            raise BackendError(f"Hugging Face backend '{self.name}' failed on {source}-{target}: {error}") from error
        return results


def create_huggingface_backend(name: str, settings: Mapping[str, Any]) -> HuggingFaceBackend:
    """Factory for `type: huggingface`; validates the settings' keys and values."""
    allowed = {"type", "model_path", "pairs", "device", "batch_size", "max_new_tokens", "num_beams", "language_codes"}
    prefix = f"translation.backends.{name}"
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise TranslationConfigError(
            f"{prefix}: unknown key(s) {unknown} for a huggingface backend. Allowed: {sorted(allowed)}."
        )
    if not settings.get("model_path"):
        raise TranslationConfigError(f"{prefix}.model_path: required; the local folder of the model.")
    pairs = settings.get("pairs")
    if not pairs or not isinstance(pairs, (list, tuple)):
        raise TranslationConfigError(f"{prefix}.pairs: required; a list such as [de-en, en-de].")
    device = settings.get("device", "cpu")
    if device not in DEVICES:
        raise TranslationConfigError(f"{prefix}.device: '{device}' is not allowed. Allowed: {', '.join(DEVICES)}.")
    numbers = {}
    for key, default in (("batch_size", 16), ("max_new_tokens", 256), ("num_beams", 1)):
        value = settings.get(key, default)
        if not isinstance(value, int) or value < 1:
            raise TranslationConfigError(f"{prefix}.{key}: '{value}' must be an integer >= 1.")
        numbers[key] = value
    return HuggingFaceBackend(
        name,
        str(settings["model_path"]),
        [parse_pair(p, f"{prefix}.pairs") for p in pairs],
        device=device,
        language_codes=settings.get("language_codes") or {},
        **numbers,
    )
