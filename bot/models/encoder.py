"""Loads the multilingual sentence encoder from a local folder, once per process.

The encoder is configuration: any local Hugging Face / sentence-transformers folder works
(the provisioned multilingual-e5-small, LaBSE, a company's own). Nothing is downloaded:
a missing folder is an error that says how to build or point to one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.models.cpu_inference import cpu_inference
from bot.models.recent_embeddings import RecentEmbeddings

DEFAULT_ENCODER_DIR = Path("build") / "encoders" / "multilingual-e5-small"
# A folder with this file (the XLM-R family's SentencePiece model, as `bridge models` builds
# e5) is tokenized by SentencePiece itself: it holds a 250,000-piece vocabulary in about 30 MB,
# where the same vocabulary as a `tokenizers` Unigram (tokenizer.json) takes about 300 MB.
SENTENCEPIECE_FILE = "sentencepiece.bpe.model"


def tokenizer_options(folder: str | os.PathLike) -> dict[str, bool]:
    """The keyword arguments for loading `folder`'s tokenizer with AutoTokenizer."""
    # transformers 4.57.3 and later 4.57 releases warn "incorrect regex pattern ... This will
    # lead to incorrect tokenization" for every local model folder whose tokenizer has a large
    # vocabulary, Mistral's or not (huggingface/transformers issue 44031). Saying that the
    # tokenizer needs no Mistral fix keeps that false alarm out of the bot's logs; it changes no
    # token.
    return {"fix_mistral_regex": False, "use_fast": not (Path(folder) / SENTENCEPIECE_FILE).is_file()}


class EncoderNotFoundError(FileNotFoundError):
    """The configured encoder folder does not exist or is not a model folder."""


class EncoderMismatchError(ValueError):
    """What was stored (a trained classifier, a knowledge-base index) was made with another
    encoder than the configured folder holds now: its numbers mean nothing to this one."""


class EncoderLoadError(OSError):
    """The configured encoder folder is there but its model cannot be loaded (a weights or
    tokenizer file truncated, missing or of another model)."""


def encoder_load_error(folder: str | os.PathLike, error: BaseException) -> EncoderLoadError:
    """The error for an encoder folder that exists but does not load, naming it and the fix."""
    return EncoderLoadError(
        f"The encoder in '{folder}' cannot be loaded ({type(error).__name__}: {error}); the folder is "
        f"incomplete or corrupt. Rebuild it with `bridge models`, or set `model_path` to a complete "
        f"local Hugging Face model folder."
    )


def check_encoder_dir(path: str | os.PathLike) -> Path:
    """Returns `path` resolved, or raises an error naming the folder and the fix."""
    folder = Path(path).expanduser().resolve()
    if not (folder / "config.json").is_file():
        raise EncoderNotFoundError(
            f"No encoder model in '{folder}' (config.json missing). Run `bridge models` to "
            f"build the bundled multilingual-e5-small there, or set `model_path` to a local "
            f"Hugging Face model folder."
        )
    return folder


def encoder_fingerprint(path: str | os.PathLike) -> str:
    """A short identity of the encoder in `path`, recorded by whatever it builds."""
    folder = check_encoder_dir(path)
    provenance = folder / "bridge_encoder.json"
    if provenance.is_file():
        info = json.loads(provenance.read_text())
        return str(info.get("source_sha256") or info)
    config = json.loads((folder / "config.json").read_text())
    return f"{config.get('model_type')}-{config.get('hidden_size')}-{config.get('vocab_size')}"


class SentenceEncoder:
    """Embeds texts with a local sentence-transformers model, L2-normalised.

    Args:
        path: the model folder.
        threads: torch CPU threads; set on purpose because torch competes with the server.
        batch_size: texts per forward pass.
        precision: "auto" (bfloat16 where the CPU computes it natively), "bfloat16" or
            "float32", for models the fused pass runs (bot/models/fused_sentence_pass.py).

    Example:
        >>> encoder = load_encoder("build/encoders/multilingual-e5-small")
        >>> encoder.embed_queries(["Wo ist meine Bestellung?"]).shape
        (1, 384)
    """

    def __init__(
        self, path: str | os.PathLike, threads: int = 2, batch_size: int = 32, precision: str = "auto"
    ) -> None:
        import torch

        from bot.models.fused_sentence_pass import FusedSentencePass
        from bot.models.resident_sentence_transformer import ResidentSentenceTransformer

        self.path = check_encoder_dir(path)
        torch.set_num_threads(threads)
        self.threads = threads
        self.batch_size = batch_size
        try:
            self.model = ResidentSentenceTransformer(
                str(self.path), device="cpu", local_files_only=True, processor_kwargs=tokenizer_options(self.path)
            )
        except Exception as error:  # whatever a broken folder makes transformers raise
            raise encoder_load_error(self.path, error) from error
        self.dimension = int(self.model.get_embedding_dimension())
        self.fused = FusedSentencePass.of(self.model, precision, self.path)
        self._recent = RecentEmbeddings()

    def _encode(self, texts: Sequence[str], prompt_name: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:
            return self._recent.get((prompt_name, texts[0]), lambda: self._encode_many(texts, prompt_name))
        return self._encode_many(texts, prompt_name)

    def _encode_many(self, texts: Sequence[str], prompt_name: str | None) -> np.ndarray:
        if prompt_name not in self.model.prompts:
            prompt_name = None  # a model without e5-style prefixes embeds plain text
        # One text (a customer's turn) is faster on one thread: the hand-off between two
        # costs more than the second core saves (bot/models/cpu_inference.py).
        with cpu_inference(1 if len(texts) == 1 else self.threads, "float32"):
            if self.fused is not None:
                prompt = self.model.prompts.get(prompt_name, "") if prompt_name else ""
                return self.fused.embed([prompt + text for text in texts], self.batch_size)
            vectors = self.model.encode(
                list(texts),
                prompt_name=prompt_name,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of customer messages (e5's "query: " side)."""
        return self._encode(texts, "query")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of stored answers (e5's "passage: " side)."""
        return self._encode(texts, "passage")


def load_encoder(path: str, threads: int = 2) -> SentenceEncoder:
    """The process-wide encoder for `path`: components that share a model folder share the weights
    and each other's embeddings of a turn, whatever `threads` each asks for (the first wins)."""
    return _load_encoder(str(Path(path).resolve()), threads)


_loaded: dict[str, SentenceEncoder] = {}
_loading = threading.Lock()


def _load_encoder(resolved_path: str, threads: int) -> SentenceEncoder:
    with _loading:
        if resolved_path not in _loaded:
            _loaded[resolved_path] = SentenceEncoder(resolved_path, threads=threads)
        return _loaded[resolved_path]


def forget_loaded_encoders() -> None:
    """Drops the process's loaded encoders, so the next load_encoder reads its folder again."""
    with _loading:
        _loaded.clear()
