"""Rasa graph component: intent classification with a fine-tuned multilingual encoder.

One model for every language: a pretrained multilingual encoder (any local Hugging Face
folder; multilingual-e5-small by default) is fine-tuned on the bot's examples together with
a linear classification head, inside `rasa train`. Because the encoder maps ~100 languages
into one space, the fine-tuned model also understands languages no example was written in.

Only the top `trainable_layers` and the head train; the confidences are temperature-calibrated
so that FallbackClassifier's threshold means the same thing from one training to the next
(the training loop: bot/models/fine_tuning.py; the network: bot/models/encoder_network.py).
A loaded model predicts with fused blocks, in bfloat16 where the CPU computes it natively,
after predicting one text of every token length once so that no customer's first message of
a length is the slow one.

Only what training changed is stored through Rasa's model storage (top layers and head as
safetensors, the tokenizer, a JSON of labels and settings); the frozen part is read from
`model_path`, and a fingerprint of it refuses an encoder other than the one trained on.

config.yml:

    - name: bot.components.multilingual_intent_classifier.MultilingualIntentClassifier
      model_path: build/encoders/multilingual-e5-small

The cheaper baseline without fine-tuning is FrozenEncoderIntentClassifier.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from bot.components.encoder_intent_classifier import ConfigCheck, EncoderIntentClassifier
from bot.models.calibration import softmax
from bot.models.cpu_inference import PRECISIONS, cpu_inference, uses_bfloat16
from bot.models.encoder import DEFAULT_ENCODER_DIR, check_encoder_dir, tokenizer_options
from bot.models.encoder_network import STORAGE_DTYPES, EncoderNetwork
from bot.models.fine_tuning import FineTuningSettings, fine_tune

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "finetuned.safetensors"  # the trained layers and the head
TOKENIZER_DIR = "tokenizer"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class MultilingualIntentClassifier(EncoderIntentClassifier):
    """Predicts intents in any language with a fine-tuned multilingual encoder."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Local folder of the pretrained encoder (built by `bridge models`, or any local
            # Hugging Face / sentence-transformers folder). Never a hub name.
            "model_path": str(DEFAULT_ENCODER_DIR),
            # torch CPU threads while training.
            "threads": 2,
            # Tokens per text; support messages are short, and attention cost grows with it.
            "max_length": 64,
            # Transformer layers (counted from the top) that fine-tuning trains; the layers
            # below and the embeddings stay frozen and are computed only once per example.
            "trainable_layers": 4,
            # Passes over the training examples (early stopping may end sooner).
            "epochs": 3,
            # Noisy copies of each training example with one typing error in one word
            # ("teack my order"), so typos customers make are no surprise; 0 = none. Only
            # words in cased scripts are changed (bot/language/typing_errors.py). Opt-in:
            # it pays on data full of typos, while on the demo bot its gain is within the
            # spread between training seeds (docs/benchmarks.md).
            "typing_error_copies": 0,
            # Examples per optimisation step.
            "batch_size": 32,
            # AdamW learning rate of the trained encoder layers.
            "learning_rate": 1.0e-4,
            # AdamW learning rate of the freshly initialised classification head.
            "head_learning_rate": 1.0e-3,
            # AdamW decoupled weight decay (not applied to biases and LayerNorm).
            "weight_decay": 0.01,
            # Share of the optimisation steps with a linearly rising learning rate.
            "warmup_ratio": 0.1,
            # Share of each intent's examples held out to pick the best epoch and calibrate.
            "validation_fraction": 0.1,
            # Epochs without a better validation loss before training stops.
            "early_stopping_patience": 1,
            # Once the held-out run has chosen the epochs and the temperature, train again
            # from the same start on every example, the validation ones included, for that
            # many epochs: the held-out tenth is not lost to the model. Doubles the training
            # time for fewer errors on held-out messages (docs/benchmarks.md).
            "refit_on_all_examples": True,
            # Seed of the split, the head's initialisation, dropout and batch order.
            "random_seed": 42,
            # Fit a softmax temperature on the validation split so confidences match
            # accuracy (what FallbackClassifier's threshold relies on).
            "calibrate_temperature": True,
            # Precision of the stored fine-tuned weights: "float16" halves the archive.
            "storage_dtype": "float16",
            # Texts per forward pass at prediction time.
            "inference_batch_size": 64,
            # torch CPU threads at prediction time: one short message at a time is faster on
            # one thread (handing work between two costs more than the second core saves),
            # and the other core stays with the server.
            "inference_threads": 1,
            # "auto": bfloat16 where the CPU has bfloat16 instructions (faster, same accuracy
            # on bench nlu's sets), else "float32" (emulated bfloat16 would be slower).
            "inference_precision": "auto",
            # How many intents the ranking lists (0 = all).
            "ranking_length": 10,
            # Inverse regularisation strength of the logistic regression on the pretrained
            # embeddings that the head starts from (bot/models/logistic_head.py).
            "C": 10.0,
            # Iteration cap of that logistic regression.
            "max_iter": 2000,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        network: EncoderNetwork | None = None,
        labels: list[str] | None = None,
        temperature: float = 1.0,
        training_report: dict[str, Any] | None = None,
    ) -> None:
        """Creates the classifier; models are loaded in `load`/`train`, never here."""
        super().__init__(config, model_storage, resource, labels)
        self.network = network
        self.temperature = temperature
        self.training_report = training_report or {}

    @classmethod
    def _check_config(cls, check: ConfigCheck) -> None:
        check.model_path()
        check.one_of("storage_dtype", STORAGE_DTYPES)
        check.one_of("inference_precision", PRECISIONS)
        at_least_one = ("threads", "max_length", "epochs", "batch_size", "inference_batch_size", "inference_threads")
        check.integers((*at_least_one, "max_iter"), 1)
        check.integers(
            ("trainable_layers", "early_stopping_patience", "ranking_length", "random_seed", "typing_error_copies"), 0
        )
        check.positive_numbers(("learning_rate", "head_learning_rate", "C"))
        check.numbers(("weight_decay",), minimum=0)
        check.numbers(("warmup_ratio", "validation_fraction"), minimum=0, below=1)
        check.booleans(("calibrate_temperature", "refit_on_all_examples"))

    # ----------------------------------------------------------------------- training

    def _fit(self, texts: list[str], targets: np.ndarray) -> None:
        import torch

        config = self.config
        started = time.perf_counter()
        torch.set_num_threads(config["threads"])
        seed = config["random_seed"]
        random.seed(seed)
        np.random.seed(seed)
        self.network = network = EncoderNetwork(
            check_encoder_dir(config["model_path"]),
            len(self.labels),
            config["trainable_layers"],
            config["max_length"],
            seed,
        )
        result = fine_tune(network, texts, targets, self.labels, FineTuningSettings.from_config(config))
        self.temperature = result.temperature
        self.training_report = {**result.report, "train_seconds": round(time.perf_counter() - started, 1)}
        # From here on it predicts exactly as it will once reloaded from storage.
        network.prepare_for_prediction(bfloat16=uses_bfloat16(config["inference_precision"]))
        logger.info(
            f"MultilingualIntentClassifier: trained in {self.training_report['train_seconds']} s; temperature "
            f"{self.temperature:.3f}; validation suggests FallbackClassifier threshold <= "
            f"{self.training_report.get('suggested_fallback_threshold')}"
        )

    # -------------------------------------------------------------------- persistence

    def _save(self, directory: Path) -> dict[str, Any]:
        """The trained layers and head as safetensors, the tokenizer, and the network's settings."""
        from safetensors.torch import save_file

        network = self.network
        save_file(network.state_to_save(self.config["storage_dtype"]), str(directory / WEIGHTS_FILE))
        network.tokenizer.save_pretrained(str(directory / TOKENIZER_DIR))
        return {
            "temperature": self.temperature,
            "training": self.training_report,
            "frozen_fingerprint": network.frozen_fingerprint(),
            "trainable_layers": len(network.layers) - network.frozen_layers,
            "max_length": network.max_length,
            "prompt": network.prompt,
        }

    @classmethod
    def _load_trained(
        cls,
        directory: Path,
        meta: dict[str, Any],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
    ) -> MultilingualIntentClassifier:
        """Rebuilds the network on `model_path`'s frozen part, then warms it up."""
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        torch.set_num_threads(config["threads"])
        model_path = check_encoder_dir(config["model_path"])
        network = EncoderNetwork(model_path, len(meta["labels"]), meta["trainable_layers"], meta["max_length"], seed=0)
        if network.frozen_fingerprint() != meta["frozen_fingerprint"]:
            raise cls.encoder_mismatch(
                config, meta["frozen_fingerprint"], network.frozen_fingerprint(), "the frozen weights differ"
            )
        tokenizer_dir = directory / TOKENIZER_DIR
        network.tokenizer = AutoTokenizer.from_pretrained(
            str(tokenizer_dir), local_files_only=True, **tokenizer_options(tokenizer_dir)
        )
        network.prompt = meta["prompt"]
        network.load_state(load_file(str(directory / WEIGHTS_FILE)))
        network.set_training(False)
        network.prepare_for_prediction(bfloat16=uses_bfloat16(config["inference_precision"]))
        with cpu_inference(config["inference_threads"], config["inference_precision"]):
            network.warm_up()
        return cls(
            config,
            model_storage,
            resource,
            network=network,
            labels=meta["labels"],
            temperature=float(meta["temperature"]),
            training_report=meta.get("training"),
        )

    # --------------------------------------------------------------------- prediction

    @property
    def is_trained(self) -> bool:
        return bool(self.labels) and self.network is not None

    def predict_probabilities(self, texts: list[str], languages: list[str | None]) -> np.ndarray:
        """Calibrated intent probabilities for each text (columns follow `self.labels`)."""
        with cpu_inference(self.config["inference_threads"], self.config["inference_precision"]):
            logits = self.network.predict_logits(texts, self.config["inference_batch_size"])
        return softmax(logits / self.temperature)
