"""The interface every machine-translation backend implements, and the registry of backend types.

A backend translates batches of plain text segments for the language pairs it was
configured with. It never sees placeholders, URLs or markup: the pipeline hands it text
whose protected spans were already replaced by short tokens, and checks them afterwards.

Backends are created from their endpoints.yml entry by `create_backend`, which looks the
entry's `type` up in the registry; a new backend type registers itself with
`register_backend_type("name", factory)`.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Pair = tuple[str, str]


class TranslationConfigError(ValueError):
    """The translation settings are wrong; the message names the key, the value and the fix."""


class ModelFolderError(TranslationConfigError):
    """A configured model folder is missing or cannot be loaded; raised at start-up."""


class BackendError(RuntimeError):
    """A backend failed while translating (the conversation falls back, it does not crash)."""


def parse_pair(value: str, where: str) -> Pair:
    """'en-pt' -> ('en', 'pt'); a malformed value raises an error naming `where`."""
    parts = str(value).split("-")
    if len(parts) != 2 or not all(p.isalpha() and 2 <= len(p) <= 3 for p in parts) or parts[0] == parts[1]:
        raise TranslationConfigError(
            f"{where}: '{value}' is not a language pair. Write it as source-target ISO 639-1 codes, e.g. 'en-pt'."
        )
    return parts[0].lower(), parts[1].lower()


def format_pair(pair: Pair) -> str:
    return f"{pair[0]}-{pair[1]}"


class TranslationBackend(abc.ABC):
    """A machine-translation engine for a fixed set of language pairs.

    Implementations load their models in `__init__` (so a broken folder fails at start-up)
    and must be safe to call from several threads.
    """

    #: Token shape the pipeline uses for protected spans, e.g. "X{n}" -> X1, X2. Chosen per
    #: backend because each model family copies different shapes verbatim.
    placeholder_pattern: str = "X{n}"

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    @abc.abstractmethod
    def pairs(self) -> Sequence[Pair]:
        """The (source, target) pairs this backend translates."""

    @abc.abstractmethod
    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translates each text from `source` to `target`; same length and order as `texts`.

        Raises:
            BackendError: the engine failed; the caller decides what the customer gets.
        """

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in set(self.pairs)


BackendFactory = Callable[[str, Mapping[str, Any]], TranslationBackend]

# type name -> "module:function" (imported on first use, so nothing heavy loads at import).
_BACKEND_TYPES: dict[str, Any] = {
    "bergamot": "bot.translation.bergamot:create_bergamot_backend",
    "huggingface": "bot.translation.huggingface:create_huggingface_backend",
}


def register_backend_type(type_name: str, factory: BackendFactory) -> None:
    """Makes `type: <type_name>` usable in the translation settings."""
    _BACKEND_TYPES[type_name] = factory


def backend_types() -> list[str]:
    return sorted(_BACKEND_TYPES)


def create_backend(name: str, settings: Mapping[str, Any]) -> TranslationBackend:
    """Builds the backend `name` from its settings (a dict with at least `type`)."""
    type_name = settings.get("type")
    if type_name not in _BACKEND_TYPES:
        raise TranslationConfigError(
            f"translation.backends.{name}.type: '{type_name}' is not a backend type. "
            f"Allowed: {', '.join(backend_types())} (or remove the backend to use none)."
        )
    factory = _BACKEND_TYPES[type_name]
    if isinstance(factory, str):
        module_name, function_name = factory.split(":")
        factory = getattr(importlib.import_module(module_name), function_name)
    return factory(name, settings)


@dataclass(frozen=True)
class Step:
    """One hop of a route: `backend` translates `source` -> `target`."""

    backend: TranslationBackend
    source: str
    target: str


class NoBackend(TranslationBackend):
    """`type: none`: translates nothing, so its pairs go straight to the fallback."""

    @property
    def pairs(self) -> Sequence[Pair]:
        return []

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        raise BackendError(f"Backend '{self.name}' is of type none and translates nothing.")


register_backend_type("none", lambda name, settings: NoBackend(name))
