"""Rasa graph component: intent classification on a multilingual sentence encoder.

One model for every language: the encoder maps texts in ~100 languages into one space, so a
classifier trained there understands languages its examples were not written in. This first
version keeps the encoder frozen and trains a multinomial logistic-regression head on its
embeddings; the weights are plain arrays saved through Rasa's model storage.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.models.encoder import DEFAULT_ENCODER_DIR, encoder_fingerprint, load_encoder

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "head.npz"
META_FILE = "classifier.json"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class MultilingualIntentClassifier(GraphComponent, IntentClassifier):
    """Predicts intents with a classification head over a multilingual encoder."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Local folder of the sentence encoder (built by `bridge models`, or any
            # Hugging Face / sentence-transformers folder).
            "model_path": str(DEFAULT_ENCODER_DIR),
            # torch CPU threads for the encoder.
            "threads": 2,
            # Inverse regularisation strength of the logistic-regression head.
            "C": 10.0,
            # Iteration cap of the head's optimiser.
            "max_iter": 2000,
            # How many intents the ranking lists (0 = all).
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: Optional[np.ndarray] = None,
        bias: Optional[np.ndarray] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        """Creates the classifier; the encoder itself is loaded on first use."""
        self._validate(config)
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.weights = weights
        self.bias = bias
        self.labels = labels or []

    @staticmethod
    def _validate(config: Dict[Text, Any]) -> None:
        if not isinstance(config.get("model_path"), str) or not config["model_path"]:
            raise ValueError(
                f"MultilingualIntentClassifier: 'model_path' must be a folder path, got "
                f"{config.get('model_path')!r}."
            )
        for key in ("threads", "max_iter"):
            if not isinstance(config.get(key), int) or config[key] < 1:
                raise ValueError(f"MultilingualIntentClassifier: '{key}' must be an integer >= 1, got {config.get(key)!r}.")
        if not isinstance(config.get("C"), (int, float)) or config["C"] <= 0:
            raise ValueError(f"MultilingualIntentClassifier: 'C' must be a positive number, got {config.get('C')!r}.")
        if not isinstance(config.get("ranking_length"), int) or config["ranking_length"] < 0:
            raise ValueError(
                f"MultilingualIntentClassifier: 'ranking_length' must be an integer >= 0, got "
                f"{config.get('ranking_length')!r}."
            )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualIntentClassifier:
        """Creates an untrained classifier; fails early if the encoder folder is missing."""
        encoder_fingerprint(config["model_path"])
        return cls(config, model_storage, resource)

    @property
    def encoder(self):
        """The shared encoder instance for the configured folder."""
        return load_encoder(self.config["model_path"], self.config["threads"])

    def train(self, training_data: TrainingData) -> Resource:
        """Embeds every intent example and fits the classification head."""
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = sorted({m.get(INTENT) for m in examples})
        if len(labels) < 2:
            raise ValueError(
                f"MultilingualIntentClassifier needs examples of at least two intents, got "
                f"{labels}. Add NLU examples to the training data."
            )
        logger.info(f"MultilingualIntentClassifier: embedding {len(examples)} examples of {len(labels)} intents")
        vectors = self.encoder.embed_queries([m.get(TEXT) for m in examples])
        targets = np.array([labels.index(m.get(INTENT)) for m in examples])
        head = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"])
        head.fit(vectors, targets)
        self.weights = head.coef_.astype(np.float32)
        self.bias = head.intercept_.astype(np.float32)
        self.labels = labels
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Saves the head and the encoder's identity through Rasa's model storage."""
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(Path(directory) / WEIGHTS_FILE, weights=self.weights, bias=self.bias)
            meta = {"labels": self.labels, "encoder": encoder_fingerprint(self.config["model_path"])}
            (Path(directory) / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MultilingualIntentClassifier:
        """Loads a trained head; refuses an encoder other than the one it was trained on."""
        try:
            with model_storage.read_from(resource) as directory:
                arrays = np.load(Path(directory) / WEIGHTS_FILE)
                meta = json.loads((Path(directory) / META_FILE).read_text())
        except (ValueError, FileNotFoundError):
            logger.warning("MultilingualIntentClassifier: no trained head found; predicting nothing.")
            return cls(config, model_storage, resource)
        current = encoder_fingerprint(config["model_path"])
        if meta["encoder"] != current:
            raise ValueError(
                f"MultilingualIntentClassifier was trained on encoder {meta['encoder']!r} but "
                f"'{config['model_path']}' holds {current!r}. Retrain with `rasa train` or point "
                f"model_path to the encoder it was trained on."
            )
        return cls(config, model_storage, resource, arrays["weights"], arrays["bias"], meta["labels"])

    def predict_probabilities(self, texts: List[str]) -> np.ndarray:
        """Intent probabilities for each text (rows follow `self.labels`)."""
        vectors = self.encoder.embed_queries(texts)
        return softmax(vectors @ self.weights.T + self.bias)

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the intent and the intent ranking to each message, in one batch."""
        if self.weights is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        probabilities = self.predict_probabilities(texts)
        limit = self.config["ranking_length"] or len(self.labels)
        for message, row in zip(messages, probabilities):
            order = np.argsort(row)[::-1][:limit]
            ranking = [{"name": self.labels[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
