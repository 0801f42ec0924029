"""What Bridge's intent classifiers on a multilingual encoder share, as one base class.

MultilingualIntentClassifier (fine-tuned encoder) and FrozenEncoderIntentClassifier
(frozen encoder + logistic regression) differ in how they fit and predict. Everything
around that is the same and lives here: the training examples they learn from, the
metadata they store through Rasa's model storage (the labels and the encoder they were
trained on, so a reload refuses another encoder), how a config error reads, and how a
prediction becomes the message's intent and intent ranking.
"""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.message_keys import LANGUAGE
from bot.models.encoder import (
    EncoderLoadError,
    EncoderMismatchError,
    EncoderNotFoundError,
    check_encoder_dir,
    encoder_fingerprint,
)

logger = logging.getLogger(__name__)

META_FILE = "classifier.json"

Classifier = TypeVar("Classifier", bound="EncoderIntentClassifier")


class StoredModelError(RuntimeError):
    """A trained classifier's files in the model archive are missing or unreadable."""


class ConfigCheck:
    """Checks one component's config; a failure names the component, the key, the value and
    what is allowed, so the fix in config.yml is obvious."""

    def __init__(self, component: str, config: dict[str, Any]) -> None:
        self.component = component
        self.config = config

    def fail(self, key: str, allowed: str) -> NoReturn:
        raise ValueError(
            f"{self.component}: '{key}' must be {allowed}, got {self.config.get(key)!r}. Fix it in config.yml."
        )

    def model_path(self, key: str = "model_path") -> None:
        if not isinstance(self.config.get(key), str) or not self.config[key]:
            self.fail(key, "the path of a local model folder")

    def one_of(self, key: str, allowed: Sequence[str]) -> None:
        if self.config.get(key) not in allowed:
            self.fail(key, f"one of {list(allowed)}")

    def integers(self, keys: Iterable[str], minimum: int) -> None:
        for key in keys:
            value = self.config.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                self.fail(key, f"an integer >= {minimum}")

    def positive_numbers(self, keys: Iterable[str]) -> None:
        for key in keys:
            value = self.config.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                self.fail(key, "a positive number")

    def numbers(self, keys: Iterable[str], minimum: float, below: float | None = None) -> None:
        """Numbers >= `minimum` (and < `below` when given)."""
        allowed = f"a number in [{minimum:g}, {below:g})" if below is not None else f"a number >= {minimum:g}"
        for key in keys:
            value = self.config.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                self.fail(key, allowed)
            if value < minimum or (below is not None and value >= below):
                self.fail(key, allowed)

    def booleans(self, keys: Iterable[str]) -> None:
        for key in keys:
            if not isinstance(self.config.get(key), bool):
                self.fail(key, "true or false")


class EncoderIntentClassifier(GraphComponent, IntentClassifier, abc.ABC):
    """An intent classifier on a local multilingual encoder (`model_path`); subclasses say
    how to fit (`_fit`), store (`_save`/`_load_trained`) and predict (`predict_probabilities`)."""

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        labels: list[str] | None = None,
    ) -> None:
        """Checks the config; models are loaded in `load`/`train`, never here."""
        self._check_config(ConfigCheck(type(self).__name__, config))
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.labels = labels or []

    @classmethod
    @abc.abstractmethod
    def _check_config(cls, check: ConfigCheck) -> None:
        """Raises a ValueError naming the key, the value and what is allowed."""

    @abc.abstractmethod
    def _fit(self, texts: list[str], targets: np.ndarray) -> None:
        """Learns `texts` with label indices `targets` into `self.labels`."""

    @abc.abstractmethod
    def _save(self, directory: Path) -> dict[str, Any]:
        """Writes the trained model into `directory`; returns what to add to the metadata."""

    @classmethod
    @abc.abstractmethod
    def _load_trained(
        cls: type[Classifier],
        directory: Path,
        meta: dict[str, Any],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
    ) -> Classifier:
        """The classifier stored in `directory` (its encoder already checked)."""

    @property
    @abc.abstractmethod
    def is_trained(self) -> bool:
        """Whether there is a model to predict with."""

    @abc.abstractmethod
    def predict_probabilities(self, texts: list[str], languages: list[str | None]) -> np.ndarray:
        """Intent probabilities for each text (columns follow `self.labels`); `languages` are the
        texts' languages as the LanguageDetector found them (None when unknown)."""

    @classmethod
    def create(
        cls: type[Classifier],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Classifier:
        """Creates an untrained classifier; fails early if the encoder folder is missing."""
        check_encoder_dir(config["model_path"])
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Trains on every intent example and stores the result through model storage."""
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = sorted({m.get(INTENT) for m in examples})
        if len(labels) < 2:
            raise ValueError(
                f"{type(self).__name__} needs examples of at least two intents, got {labels}. Add NLU "
                f"examples to the training data."
            )
        self.labels = labels
        self._fit([m.get(TEXT) for m in examples], np.array([labels.index(m.get(INTENT)) for m in examples]))
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Saves the model and its metadata (labels, encoder) through model storage."""
        with self._model_storage.write_to(self._resource) as directory:
            directory = Path(directory)
            meta: dict[str, Any] = {"labels": self.labels, "encoder": encoder_fingerprint(self.config["model_path"])}
            meta.update(self._save(directory))
            (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2))

    @classmethod
    def load(
        cls: type[Classifier],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> Classifier:
        """Loads a trained classifier, or an untrained one when nothing was stored for it.

        Anything else that keeps the stored model from predicting (the encoder folder missing,
        corrupt or another encoder than the one trained on, the stored files unreadable) is
        raised, naming the folder and the fix: a server must not start on a classifier that
        would answer every turn with nlu_fallback.
        """
        try:
            with model_storage.read_from(resource) as directory:
                return cls._load_stored(Path(directory), config, model_storage, resource)
        except (EncoderMismatchError, EncoderNotFoundError, EncoderLoadError, StoredModelError):
            raise
        except ValueError as error:  # model storage has nothing for this resource: not trained yet
            logger.warning(f"{cls.__name__}: no trained model found ({error}); predicting nothing.")
            return cls(config, model_storage, resource)

    @classmethod
    def _load_stored(
        cls: type[Classifier],
        directory: Path,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
    ) -> Classifier:
        """The classifier stored in `directory`; any failure but the encoder's own is a StoredModelError."""
        try:
            meta = json.loads((directory / META_FILE).read_text())
            trained_on = meta["encoder"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise cls.stored_model_error(resource, error) from error
        current = encoder_fingerprint(config["model_path"])
        if trained_on != current:
            raise cls.encoder_mismatch(config, trained_on, current)
        try:
            return cls._load_trained(directory, meta, config, model_storage, resource)
        except (EncoderMismatchError, EncoderNotFoundError, EncoderLoadError):
            raise
        except Exception as error:  # a truncated or foreign weights file fails in many ways
            raise cls.stored_model_error(resource, error) from error

    @classmethod
    def stored_model_error(cls, resource: Resource, error: BaseException) -> StoredModelError:
        """The error for a trained model whose stored files cannot be read."""
        return StoredModelError(
            f"{cls.__name__}: the trained model stored as '{resource.name}' in the model archive cannot be "
            f"read ({type(error).__name__}: {error}). The archive is incomplete or corrupt: train it again "
            f"with `rasa train` (or `bridge train`) and start the server on the new model."
        )

    @classmethod
    def encoder_mismatch(
        cls, config: dict[str, Any], trained: str, current: str, detail: str = ""
    ) -> EncoderMismatchError:
        """The error for a stored model trained on encoder `trained` while `model_path` holds `current`."""
        return EncoderMismatchError(
            f"{cls.__name__} was trained on encoder {trained!r} but '{config['model_path']}' holds "
            f"{current!r}. Retrain with `rasa train`, or point model_path to the encoder it was trained on."
            + (f" ({detail})" if detail else "")
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds the intent and the intent ranking to each message, in batches."""
        with_text = [m for m in messages if m.get(TEXT)]
        if not self.is_trained or not with_text:
            return messages
        probabilities = self.predict_probabilities(
            [m.get(TEXT) for m in with_text], [m.get(LANGUAGE) for m in with_text]
        )
        limit = self.config["ranking_length"] or len(self.labels)
        for message, row in zip(with_text, probabilities):
            order = np.argsort(-row, kind="stable")[:limit]
            ranking = [{"name": self.labels[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
