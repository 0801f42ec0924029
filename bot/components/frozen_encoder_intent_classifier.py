"""Rasa graph component: intent classification on frozen multilingual encoders.

The encoders embed each message as they were pretrained (nothing of them is trained), and a
multinomial logistic regression on those sentence embeddings picks the intent. It trains in
the time it takes to embed the examples and, because the encoders map many languages into
one space, it also classifies languages no example was written in.

With `second_encoder: use-multilingual` the regression reads e5's and USE-multilingual's
embeddings side by side, USE's scaled by `second_encoder_weight`: trained on one language,
that transfers to the others far better than e5 alone, and the scale keeps e5's accuracy in
the examples' own language (docs/classifier.md). USE does not cover every language e5 does (Hindi), so a
second regression on e5 alone answers for a message the LanguageDetector found in a language
outside USE's (bot/models/use_encoder.py).

Confidences are calibrated: each regression's logits are divided by a temperature fitted on
out-of-fold predictions of the training examples (`calibration_folds`), so the
FallbackClassifier's threshold means a probability of being right in the languages the
examples are written in. In a language no example is written in the logits come out flatter
while the top intent stays right as often, so there the temperature is multiplied by
`unseen_language_temperature`, chosen on languages of a public set that were not tuned on
otherwise (docs/classifier.md).

Stored through Rasa's model storage: the regressions' weights (head.npz) and a JSON of the
labels and the encoders they were trained on; a reload refuses other encoders.

config.yml, in place of MultilingualIntentClassifier:

    - name: bot.components.frozen_encoder_intent_classifier.FrozenEncoderIntentClassifier
      model_path: build/encoders/multilingual-e5-small
      second_encoder: use-multilingual
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.encoder_intent_classifier import ConfigCheck, EncoderIntentClassifier
from bot.models.calibration import fit_temperature, softmax
from bot.models.encoder import DEFAULT_ENCODER_DIR, SentenceEncoder, load_encoder
from bot.models.logistic_head import fit_logistic_head
from bot.models.use_encoder import DIMENSION, USE_LANGUAGES, UseEncoder, load_use_encoder
from bot.training_data import example_language

logger = logging.getLogger(__name__)

HEAD_FILE = "head.npz"
USE_MULTILINGUAL = "use-multilingual"
# Splits of the training examples for calibration; fixed, so that training is deterministic.
CALIBRATION_SEED = 42


@dataclass(frozen=True)
class Head:
    """One calibrated regression: logits = features @ weights.T + bias, divided by temperature."""

    weights: np.ndarray
    bias: np.ndarray
    temperature: float

    def probabilities(self, features: np.ndarray, temperature_factors: np.ndarray | None = None) -> np.ndarray:
        """Softmax of the calibrated logits; `temperature_factors` (one per row) scale the temperature."""
        temperature = self.temperature
        if temperature_factors is not None:
            temperature = temperature * temperature_factors[:, None]
        return softmax((features @ self.weights.T + self.bias) / temperature)

    def reading_scaled(self, scale: np.ndarray) -> Head:
        """The same regression for features not multiplied by `scale` (one factor per feature):
        a head fitted on scaled features predicts from the encoders' own embeddings."""
        return Head((self.weights * scale).astype(np.float32), self.bias, self.temperature)


def _full_head(features: np.ndarray, targets: np.ndarray, labels: int, C: float, max_iter: int):
    """The regression's weights and bias with one row per label, also for labels absent from `targets`
    (a calibration fold may miss a rare intent: it then never predicts it)."""
    weights, bias = fit_logistic_head(features, targets, C, max_iter)
    present = np.unique(targets)
    if len(present) == labels:
        return weights, bias
    full_weights = np.zeros((labels, features.shape[1]), dtype=weights.dtype)
    full_bias = np.full(labels, -1e9, dtype=bias.dtype)
    full_weights[present], full_bias[present] = weights, bias
    return full_weights, full_bias


def fit_head(features: np.ndarray, targets: np.ndarray, labels: int, C: float, max_iter: int, folds: int) -> Head:
    """A regression on all examples, its temperature fitted on `folds`-fold out-of-fold logits."""
    weights, bias = _full_head(features, targets, labels, C, max_iter)
    temperature = 1.0
    if folds >= 2 and len(targets) >= 2 * folds:
        fold_of = np.random.default_rng(CALIBRATION_SEED).permutation(len(targets)) % folds
        logits = np.zeros((len(targets), labels))
        for fold in range(folds):
            train, test = fold_of != fold, fold_of == fold
            fold_weights, fold_bias = _full_head(features[train], targets[train], labels, C, max_iter)
            logits[test] = features[test] @ fold_weights.T + fold_bias
        temperature = fit_temperature(logits, targets)
    return Head(weights.astype(np.float32), bias.astype(np.float32), float(temperature))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FrozenEncoderIntentClassifier(EncoderIntentClassifier):
    """Predicts intents with logistic regression on frozen encoders' sentence embeddings."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Local folder of the pretrained encoder (built by `bridge models`, or any local
            # Hugging Face / sentence-transformers folder). Never a hub name.
            "model_path": str(DEFAULT_ENCODER_DIR),
            # A second encoder read side by side with model_path's: `use-multilingual`, or null.
            "second_encoder": None,
            # What the second encoder's embedding is multiplied by beside model_path's: at 1 the
            # regression leant on USE and lost accuracy in the examples' own language; 0.5 kept
            # it and the transfer, on the dev languages of xSID and Bitext's folds (docs/classifier.md).
            "second_encoder_weight": 0.5,
            # Factor on the calibrated temperature for a message in a language none of the
            # examples is written in (or not detected): below 1 makes those confidences
            # sharper, so the fallback does not hand off right answers there more often than in
            # the examples' languages. 1: the same temperature everywhere. Applies only when the
            # examples carry their language (`metadata: language:` in the NLU files).
            "unseen_language_temperature": 1.0,
            # torch CPU threads of the encoder, training and prediction alike; components
            # on the same folder share one loaded encoder (bot/models/encoder.py).
            "threads": 2,
            # How many intents the ranking lists (0 = all).
            "ranking_length": 10,
            # Inverse regularisation strength of the logistic regression: weak regularisation
            # transfers better across languages (docs/classifier.md).
            "C": 100.0,
            # Iteration cap of the logistic regression's solver.
            "max_iter": 2000,
            # Out-of-fold splits the confidence temperature is fitted on (0: uncalibrated).
            "calibration_folds": 5,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        labels: list[str] | None = None,
        heads: dict[str, Head] | None = None,
        example_languages: list[str] | None = None,
    ) -> None:
        """Creates the classifier; `heads` are the trained regressions: `joint` on every encoder,
        and with a second encoder also `first` on model_path's alone; `example_languages` are
        the languages the training examples were written in."""
        super().__init__(config, model_storage, resource, labels)
        self.heads = heads or {}
        self.example_languages = example_languages or []

    @classmethod
    def _check_config(cls, check: ConfigCheck) -> None:
        check.model_path()
        check.integers(("threads", "max_iter"), 1)
        check.integers(("ranking_length", "calibration_folds"), 0)
        check.positive_numbers(("C", "second_encoder_weight", "unseen_language_temperature"))
        check.one_of("second_encoder", [None, USE_MULTILINGUAL])

    def _encoder(self) -> SentenceEncoder:
        return load_encoder(self.config["model_path"], self.config["threads"])

    def _second_encoder(self) -> UseEncoder | None:
        return load_use_encoder() if self.config["second_encoder"] else None

    def train(self, training_data: TrainingData) -> Resource:
        """Trains on every intent example (see parent class), noting the examples' languages."""
        languages = {example_language(m) for m in training_data.intent_examples} - {""}
        self.example_languages = sorted(languages)
        return super().train(training_data)

    def _fit(self, texts: list[str], targets: np.ndarray) -> None:
        logger.info(f"FrozenEncoderIntentClassifier: embedding {len(texts)} examples of {len(self.labels)} intents")
        first = self._encoder().embed_queries(texts)
        second = self._second_encoder()
        fit = dict(
            targets=targets,
            labels=len(self.labels),
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            folds=self.config["calibration_folds"],
        )
        if second is None:
            self.heads = {"joint": fit_head(first, **fit)}
        else:
            weight = self.config["second_encoder_weight"]
            scale = np.concatenate([np.ones(first.shape[1]), np.full(DIMENSION, weight)]).astype(np.float32)
            self.heads = {
                "joint": fit_head(np.hstack([first, second.embed(texts)]) * scale, **fit).reading_scaled(scale),
                "first": fit_head(first, **fit),
            }

    def _save(self, directory: Path) -> dict[str, Any]:
        """The regressions' weights, biases and temperatures as one .npz file."""
        arrays = {}
        for name, head in self.heads.items():
            arrays.update(
                {f"{name}_weights": head.weights, f"{name}_bias": head.bias, f"{name}_temperature": head.temperature}
            )
        np.savez(directory / HEAD_FILE, **arrays)
        second = self._second_encoder()
        return {"second_encoder": second.fingerprint if second else None, "example_languages": self.example_languages}

    @classmethod
    def _load_trained(
        cls,
        directory: Path,
        meta: dict[str, Any],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
    ) -> FrozenEncoderIntentClassifier:
        """The stored heads and the encoders, loaded now so that a broken encoder folder stops the
        server at start-up rather than failing the first customer's turn."""
        with np.load(directory / HEAD_FILE) as arrays:
            names = sorted({key.rsplit("_", 1)[0] for key in arrays.files})
            heads = {
                name: Head(arrays[f"{name}_weights"], arrays[f"{name}_bias"], float(arrays[f"{name}_temperature"]))
                for name in names
            }
        classifier = cls(
            config,
            model_storage,
            resource,
            labels=meta["labels"],
            heads=heads,
            example_languages=meta.get("example_languages", []),
        )
        classifier._encoder()
        second = classifier._second_encoder()
        trained_with = meta.get("second_encoder")
        if (second.fingerprint if second else None) != trained_with:
            raise cls.encoder_mismatch(
                config, str(trained_with), second.fingerprint if second else "no second encoder", "second_encoder"
            )
        return classifier

    @property
    def is_trained(self) -> bool:
        return bool(self.labels) and "joint" in self.heads

    def predict_probabilities(self, texts: list[str], languages: list[str | None]) -> np.ndarray:
        """Intent probabilities for each text (columns follow `self.labels`); a text in a language
        the second encoder does not cover is read by model_path's encoder alone."""
        first = self._encoder().embed_queries(texts)
        factors = self.temperature_factors(languages)
        second = self._second_encoder()
        if second is None:
            return self.heads["joint"].probabilities(first, factors)
        probabilities = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        covered = np.array([language is None or language in USE_LANGUAGES for language in languages], dtype=bool)
        if covered.any():
            both = np.hstack([first[covered], second.embed([t for t, c in zip(texts, covered) if c])])
            probabilities[covered] = self.heads["joint"].probabilities(both, factors[covered])
        if not covered.all():
            probabilities[~covered] = self.heads["first"].probabilities(first[~covered], factors[~covered])
        return probabilities

    def temperature_factors(self, languages: list[str | None]) -> np.ndarray:
        """Per text, the factor on the temperature: `unseen_language_temperature` for a language
        no example was written in (an undetected one included), 1 otherwise, and 1 everywhere
        when the examples did not say their language."""
        unseen = self.config["unseen_language_temperature"]
        if not self.example_languages:
            return np.ones(len(languages), dtype=np.float32)
        factors = [1.0 if language in self.example_languages else unseen for language in languages]
        return np.array(factors, dtype=np.float32)
