"""Rasa graph component: intent classification on a frozen multilingual encoder (the baseline).

The encoder embeds each message as it was pretrained (nothing of it is trained), and a
multinomial logistic regression on those sentence embeddings picks the intent. It trains in
the time it takes to embed the examples and, because the encoder maps ~100 languages into
one space, it also classifies languages no example was written in. It is the baseline the
fine-tuned MultilingualIntentClassifier has to beat, and the choice for an encoder that is
not BERT-style (fine-tuning needs BERT-style blocks).

Stored through Rasa's model storage: the regression's weights (head.npz) and a JSON of the
labels and the encoder it was trained on; a reload refuses another encoder.

config.yml, in place of MultilingualIntentClassifier:

    - name: bot.components.frozen_encoder_intent_classifier.FrozenEncoderIntentClassifier
      model_path: build/encoders/multilingual-e5-small
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from bot.components.encoder_intent_classifier import ConfigCheck, EncoderIntentClassifier
from bot.models.calibration import softmax
from bot.models.encoder import DEFAULT_ENCODER_DIR, SentenceEncoder, load_encoder
from bot.models.logistic_head import fit_logistic_head

logger = logging.getLogger(__name__)

HEAD_FILE = "head.npz"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FrozenEncoderIntentClassifier(EncoderIntentClassifier):
    """Predicts intents with logistic regression on a frozen encoder's sentence embeddings."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Local folder of the pretrained encoder (built by `bridge models`, or any local
            # Hugging Face / sentence-transformers folder). Never a hub name.
            "model_path": str(DEFAULT_ENCODER_DIR),
            # torch CPU threads of the encoder, training and prediction alike; components
            # on the same folder share one loaded encoder (bot/models/encoder.py).
            "threads": 2,
            # How many intents the ranking lists (0 = all).
            "ranking_length": 10,
            # Inverse regularisation strength of the logistic regression.
            "C": 10.0,
            # Iteration cap of the logistic regression's solver.
            "max_iter": 2000,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        labels: list[str] | None = None,
        head: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Creates the classifier; `head` is the regression's (weights, bias) once trained."""
        super().__init__(config, model_storage, resource, labels)
        self.head = head

    @classmethod
    def _check_config(cls, check: ConfigCheck) -> None:
        check.model_path()
        check.integers(("threads", "max_iter"), 1)
        check.integers(("ranking_length",), 0)
        check.positive_numbers(("C",))

    def _encoder(self) -> SentenceEncoder:
        return load_encoder(self.config["model_path"], self.config["threads"])

    def _fit(self, texts: list[str], targets: np.ndarray) -> None:
        logger.info(f"FrozenEncoderIntentClassifier: embedding {len(texts)} examples of {len(self.labels)} intents")
        weights, bias = fit_logistic_head(
            self._encoder().embed_queries(texts), targets, self.config["C"], self.config["max_iter"]
        )
        self.head = (weights.astype(np.float32), bias.astype(np.float32))

    def _save(self, directory: Path) -> dict[str, Any]:
        """The regression's weights and bias as one .npz file."""
        np.savez(directory / HEAD_FILE, weights=self.head[0], bias=self.head[1])
        return {}

    @classmethod
    def _load_trained(
        cls,
        directory: Path,
        meta: dict[str, Any],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
    ) -> FrozenEncoderIntentClassifier:
        """The stored head and the encoder, loaded now so that a broken encoder folder stops the
        server at start-up rather than failing the first customer's turn."""
        with np.load(directory / HEAD_FILE) as arrays:
            head = (arrays["weights"], arrays["bias"])
        classifier = cls(config, model_storage, resource, labels=meta["labels"], head=head)
        classifier._encoder()
        return classifier

    @property
    def is_trained(self) -> bool:
        return bool(self.labels) and self.head is not None

    def predict_probabilities(self, texts: list[str]) -> np.ndarray:
        """Intent probabilities for each text (columns follow `self.labels`)."""
        weights, bias = self.head
        return softmax(self._encoder().embed_queries(texts) @ weights.T + bias)
