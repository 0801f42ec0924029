"""Rasa graph component: intent classification with a fine-tuned multilingual encoder.

One model for every language: a pretrained multilingual encoder (any local Hugging Face
folder; multilingual-e5-small by default) is fine-tuned on the bot's examples together with
a linear classification head, inside `rasa train`. Because the encoder maps ~100 languages
into one space, the fine-tuned model also understands languages no example was written in.

Training is made to fit 2 CPU cores: the embeddings and the lower transformer layers stay
frozen, so their outputs are computed once and cached; only the top `trainable_layers` and
the head are trained (AdamW, linear warm-up and decay, held-out validation split, early
stopping, fixed seed). Optionally each training example also gets noisy copies with one
typing error ("teack my order"): on Bitext, customers' typos were most of what the model got
wrong. The confidences are temperature-calibrated on the validation split so that
FallbackClassifier's threshold means the same thing from one training to the next. Then,
with the epochs and the temperature that run chose, training repeats on every example, so
that the validation examples are learned too.

Prediction runs fused copies of BERT-style blocks (bot/models/fused_layers.py), in bfloat16
where the CPU multiplies bfloat16 natively. A loaded model predicts one text of every token
length once, so that the first message of each length is not the slow one.

Only what training changed is stored through Rasa's model storage (top layers and head as
safetensors, the tokenizer, a JSON of labels and settings); the frozen part is read from
`model_path`, and a fingerprint of it refuses an encoder other than the one trained on.

`mode: frozen_logistic` keeps the first version of this component: a frozen encoder and a
multinomial logistic-regression head on its sentence embeddings (a cheap baseline).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.typing_errors import with_typing_error
from bot.models.cpu_inference import PRECISIONS, cpu_inference, uses_bfloat16
from bot.models.encoder import DEFAULT_ENCODER_DIR, TOKENIZER_OPTIONS, check_encoder_dir, encoder_fingerprint, load_encoder
from bot.models.fused_layers import fused_copies, run_fused

logger = logging.getLogger(__name__)

# torch's OpenMP threads spin while they wait; on a 2-core machine shared with the server,
# the action server and other jobs, spinning threads starve each other (measured here: a
# training run 16x slower with 2 threads than with 1). Passive waiting keeps 2 threads a
# gain. It has to be set before torch loads, which happens after Rasa imports this module.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

META_FILE = "classifier.json"
WEIGHTS_FILE = "finetuned.safetensors"  # fine_tune mode: trained layers + head
TOKENIZER_DIR = "tokenizer"
LOGISTIC_FILE = "head.npz"  # frozen_logistic mode

MODES = ("fine_tune", "frozen_logistic")
STORAGE_DTYPES = ("float16", "float32")
COMPONENT = "MultilingualIntentClassifier"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """The softmax temperature that minimises the negative log-likelihood of `targets`.

    A 1-D search over a log grid: deterministic and enough for one scalar. A validation set
    without a single error says nothing about over-confidence (the likelihood only grows
    as the temperature falls), so the model's own confidences (1.0) are kept then; the
    grid starts at 0.5 so that a few errors cannot make every answer look certain.
    """
    if len(targets) == 0 or bool((logits.argmax(1) == targets).all()):
        return 1.0
    best, best_nll = 1.0, math.inf
    for temperature in np.exp(np.linspace(np.log(0.5), np.log(20.0), 181)):
        probabilities = softmax(logits / temperature)
        nll = -np.mean(np.log(probabilities[np.arange(len(targets)), targets] + 1e-12))
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return best


def stratified_split(labels: Sequence[str], fraction: float, seed: int) -> Tuple[List[int], List[int]]:
    """Indices (train, validation): `fraction` of each label's examples, at least one of a
    label with three or more examples, go to validation; the rest to training."""
    rng = random.Random(seed)
    by_label: Dict[str, List[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    train: List[int] = []
    validation: List[int] = []
    for label in sorted(by_label):
        indices = by_label[label][:]
        rng.shuffle(indices)
        count = int(round(len(indices) * fraction)) if fraction > 0 else 0
        if fraction > 0 and len(indices) >= 3:
            count = max(1, count)
        count = min(count, len(indices) - 1)
        validation.extend(indices[:count])
        train.extend(indices[count:])
    return sorted(train), sorted(validation)


def _length_batches(lengths: Sequence[int], batch_size: int) -> List[List[int]]:
    """Indices grouped into batches of similar length, so padding stays short."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class EncoderMismatchError(ValueError):
    """The stored model was trained on top of a different encoder than `model_path` holds."""


class EncoderNetwork:
    """A Hugging Face encoder split at `frozen_layers`, mean pooling and a linear head.

    The frozen part (embeddings and the lower layers) runs once per text under no_grad; the
    upper part and the head are what fine-tuning trains. Prediction runs all blocks in one
    pass, through fused copies of them once `prepare_for_prediction` has made them.
    """

    def __init__(self, model_path: Path, num_labels: int, trainable_layers: int, max_length: int, seed: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(seed)
        self.torch = torch
        self.encoder = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager")
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True, **TOKENIZER_OPTIONS)
        self.layers = self._find_layers(self.encoder, model_path)
        self.frozen_layers = max(0, len(self.layers) - trainable_layers)
        self.max_length = max_length
        self.prompt = self._query_prompt(model_path)
        hidden = int(self.encoder.config.hidden_size)
        self.dropout = torch.nn.Dropout(float(getattr(self.encoder.config, "hidden_dropout_prob", 0.1) or 0.1))
        self.head = torch.nn.Linear(hidden, num_labels)
        self.fused_layers: Optional[List[Any]] = None  # set by prepare_for_prediction
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
            f"{COMPONENT}: the model in '{model_path}' ({type(encoder).__name__}) has no "
            f"embeddings + encoder.layer stack, which fine-tuning needs. Use a BERT-style "
            f"encoder (BERT, XLM-RoBERTa, RoBERTa, e5, LaBSE) or `mode: frozen_logistic`."
        )

    @staticmethod
    def _query_prompt(model_path: Path) -> str:
        """e5-style models expect a "query: " prefix; sentence-transformers folders say so."""
        settings = model_path / "config_sentence_transformers.json"
        if settings.is_file():
            return str(json.loads(settings.read_text()).get("prompts", {}).get("query", ""))
        return ""

    def trainable_parameters(self) -> Dict[str, Any]:
        """Named tensors that training changes (upper layers and head)."""
        named = {f"layers.{i}.{n}": p for i in range(self.frozen_layers, len(self.layers)) for n, p in self.layers[i].named_parameters()}
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

    def tokenize(self, texts: Sequence[str]) -> List[List[int]]:
        """Token ids of each text (prompt prepended, truncated to max_length)."""
        encoded = self.tokenizer([self.prompt + t for t in texts], truncation=True, max_length=self.max_length)
        return encoded["input_ids"]

    def _pad(self, sequences: Sequence[Any], pad_value: float) -> Tuple[Any, Any]:
        torch = self.torch
        longest = max(len(s) for s in sequences)
        mask = torch.zeros(len(sequences), longest, dtype=torch.long)
        for row, sequence in enumerate(sequences):
            mask[row, : len(sequence)] = 1
        if isinstance(sequences[0], list):
            ids = torch.full((len(sequences), longest), int(pad_value), dtype=torch.long)
            for row, sequence in enumerate(sequences):
                ids[row, : len(sequence)] = torch.tensor(sequence)
            return ids, mask
        padded = torch.zeros(len(sequences), longest, sequences[0].shape[-1], dtype=sequences[0].dtype)
        for row, sequence in enumerate(sequences):
            padded[row, : len(sequence)] = sequence
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

    def _padded_ids(self, token_ids: Sequence[List[int]]) -> Tuple[Any, Any]:
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        return self._pad(token_ids, pad)

    def lower(self, token_ids: Sequence[List[int]]) -> List[Any]:
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
        hidden, mask = self._pad(states, 0.0)
        return self._mean_pool(self._run_layers(hidden, mask, self.frozen_layers, len(self.layers)), mask)

    def _mean_pool(self, hidden: Any, mask: Any) -> Any:
        """Sentence embeddings as e5 makes them: mean over the tokens, L2-normalised."""
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.torch.nn.functional.normalize(pooled, dim=-1)

    def initialise_head(self, states: Sequence[Any], targets: np.ndarray, C: float, max_iter: int) -> None:
        """Starts the head from logistic regression on the pretrained embeddings, so that
        fine-tuning begins where the frozen baseline ends instead of from noise."""
        from sklearn.linear_model import LogisticRegression

        with self.torch.inference_mode():
            features = np.concatenate([self.pooled(list(states[i : i + 64])).numpy() for i in range(0, len(states), 64)])
        regression = LogisticRegression(C=C, max_iter=max_iter).fit(features, targets)
        weight, bias = regression.coef_, regression.intercept_
        if weight.shape[0] == 1:  # two classes: sklearn keeps one row
            weight, bias = np.vstack([-weight / 2, weight / 2]), np.array([-bias[0] / 2, bias[0] / 2])
        with self.torch.no_grad():
            self.head.weight.copy_(self.torch.tensor(weight, dtype=self.torch.float32))
            self.head.bias.copy_(self.torch.tensor(bias, dtype=self.torch.float32))

    def set_training(self, training: bool) -> None:
        """Dropout on in the trained layers only; the frozen part always runs in eval mode."""
        for layer in self.layers[self.frozen_layers :]:
            layer.train(training)
        self.dropout.train(training)

    def _top_states(self, token_ids: Sequence[List[int]]) -> Tuple[Any, Any]:
        """Padded hidden states after every block, and their mask, for prediction."""
        ids, mask = self._padded_ids(token_ids)
        return self._run_layers(self.encoder.embeddings(input_ids=ids), mask, 0, len(self.layers)), mask

    def predict_logits(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Logits for `texts`, batched by length; rows follow the input order. All blocks run
        in one pass (the frozen/trained split only matters to training). The network is in
        eval mode once trained or loaded (switching modes per call cost 0.5 ms a message)."""
        token_ids = self.tokenize(texts)
        output = np.zeros((len(texts), self.head.out_features), dtype=np.float32)
        with self.torch.inference_mode():
            for batch in _length_batches([len(t) for t in token_ids], batch_size):
                hidden, mask = self._top_states([token_ids[i] for i in batch])
                output[batch] = self.head(self._mean_pool(hidden, mask)).float().numpy()
        return output

    def prepare_for_prediction(self, bfloat16: bool) -> None:
        """Makes prediction fast, once, for a loaded model (it is not trained further).

        BERT-style blocks get fused copies in bfloat16 or float32 (bot/models/fused_layers.py).
        Other encoders keep their blocks; for bfloat16 their linear layers' weights are
        stored in bfloat16, which autocast would otherwise convert again on every message
        (40% of a message's time) to compute the same products.
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
        prepares its kernels per input shape, and a message of a new length took about 2.5
        times as long (on this project's machine, 20 ms against 8 for a first 22-token one)."""
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

    def state_to_save(self, dtype: str) -> Dict[str, Any]:
        target = self.torch.float16 if dtype == "float16" else self.torch.float32
        return {name: p.detach().to(target).contiguous() for name, p in self.trainable_parameters().items()}

    def load_state(self, tensors: Dict[str, Any]) -> None:
        parameters = self.trainable_parameters()
        missing = sorted(set(parameters) - set(tensors))
        if missing:
            raise ValueError(f"{COMPONENT}: the stored model lacks {missing[:3]}...; retrain with `rasa train`.")
        with self.torch.no_grad():
            for name, parameter in parameters.items():
                parameter.copy_(tensors[name].float())


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class MultilingualIntentClassifier(GraphComponent, IntentClassifier):
    """Predicts intents in any language with a fine-tuned multilingual encoder."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Local folder of the pretrained encoder (built by `bridge models`, or any local
            # Hugging Face / sentence-transformers folder). Never a hub name.
            "model_path": str(DEFAULT_ENCODER_DIR),
            # "fine_tune": train the top encoder layers and a head (default);
            # "frozen_logistic": frozen sentence embeddings + logistic regression (baseline).
            "mode": "fine_tune",
            # torch CPU threads while training (and embedding, in frozen_logistic mode).
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
            # it cut Bitext's 5-fold errors from 20 to 13, but on the demo bot its gain is
            # within the spread between training seeds (README, "Intent classifier").
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
            # time; on the demo bot's held-out set, 57 / 65 / 60 errors became 54 / 50 / 59
            # (random_seed 42 / 1 / 2; README, "Intent classifier").
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
            # torch CPU threads at prediction time: one message at a time is fastest on one
            # thread (15 ms against 18 ms on two), and the other core stays with the server.
            "inference_threads": 1,
            # "auto": bfloat16 where the CPU has bfloat16 instructions, else "float32". On
            # the demo eval model, 15.0 ms a message against 21.2 ms in float32, and 58
            # errors of 792 against 60 (README, "Intent classifier").
            "inference_precision": "auto",
            # How many intents the ranking lists (0 = all).
            "ranking_length": 10,
            # Inverse regularisation strength of the logistic regression that is the
            # frozen_logistic head and the fine_tune head's starting point.
            "C": 10.0,
            # Iteration cap of that logistic regression.
            "max_iter": 2000,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        network: Optional[EncoderNetwork] = None,
        labels: Optional[List[str]] = None,
        temperature: float = 1.0,
        logistic: Optional[Tuple[np.ndarray, np.ndarray]] = None,
        training_report: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Creates the classifier; models are loaded in `load`/`train`, never here."""
        self._validate(config)
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.network = network
        self.labels = labels or []
        self.temperature = temperature
        self.logistic = logistic
        self.training_report = training_report or {}

    @staticmethod
    def _validate(config: Dict[Text, Any]) -> None:
        """Raises a ValueError naming the key, the value and what is allowed."""
        def fail(key: str, allowed: str) -> None:
            raise ValueError(f"{COMPONENT}: '{key}' must be {allowed}, got {config.get(key)!r}. Fix it in config.yml.")

        if not isinstance(config.get("model_path"), str) or not config["model_path"]:
            fail("model_path", "the path of a local model folder")
        if config.get("mode") not in MODES:
            fail("mode", f"one of {list(MODES)}")
        if config.get("storage_dtype") not in STORAGE_DTYPES:
            fail("storage_dtype", f"one of {list(STORAGE_DTYPES)}")
        if config.get("inference_precision") not in PRECISIONS:
            fail("inference_precision", f"one of {list(PRECISIONS)}")
        for key in ("threads", "max_length", "epochs", "batch_size", "inference_batch_size", "inference_threads", "max_iter"):
            if not isinstance(config.get(key), int) or isinstance(config.get(key), bool) or config[key] < 1:
                fail(key, "an integer >= 1")
        for key in ("trainable_layers", "early_stopping_patience", "ranking_length", "random_seed", "typing_error_copies"):
            if not isinstance(config.get(key), int) or isinstance(config.get(key), bool) or config[key] < 0:
                fail(key, "an integer >= 0")
        for key in ("learning_rate", "head_learning_rate", "C"):
            if not isinstance(config.get(key), (int, float)) or isinstance(config.get(key), bool) or config[key] <= 0:
                fail(key, "a positive number")
        for key in ("weight_decay",):
            if not isinstance(config.get(key), (int, float)) or config[key] < 0:
                fail(key, "a number >= 0")
        for key in ("warmup_ratio", "validation_fraction"):
            if not isinstance(config.get(key), (int, float)) or not 0 <= config[key] < 1:
                fail(key, "a number in [0, 1)")
        for key in ("calibrate_temperature", "refit_on_all_examples"):
            if not isinstance(config.get(key), bool):
                fail(key, "true or false")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualIntentClassifier:
        """Creates an untrained classifier; fails early if the encoder folder is missing."""
        check_encoder_dir(config["model_path"])
        return cls(config, model_storage, resource)

    # ----------------------------------------------------------------------- training

    def train(self, training_data: TrainingData) -> Resource:
        """Trains on every intent example and stores the result through model storage."""
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = sorted({m.get(INTENT) for m in examples})
        if len(labels) < 2:
            raise ValueError(
                f"{COMPONENT} needs examples of at least two intents, got {labels}. Add NLU "
                f"examples to the training data."
            )
        texts = [m.get(TEXT) for m in examples]
        targets = np.array([labels.index(m.get(INTENT)) for m in examples])
        self.labels = labels
        if self.config["mode"] == "frozen_logistic":
            self._train_logistic(texts, targets)
        else:
            self._fine_tune(texts, targets)
        self.persist()
        return self._resource

    def _train_logistic(self, texts: List[str], targets: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        logger.info(f"{COMPONENT}: embedding {len(texts)} examples of {len(self.labels)} intents (frozen encoder)")
        encoder = load_encoder(self.config["model_path"], self.config["threads"])
        head = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"])
        head.fit(encoder.embed_queries(texts), targets)
        self.logistic = (head.coef_.astype(np.float32), head.intercept_.astype(np.float32))

    def _fine_tune(self, texts: List[str], targets: np.ndarray) -> None:
        import torch

        config = self.config
        started = time.perf_counter()
        torch.set_num_threads(config["threads"])
        seed = config["random_seed"]
        random.seed(seed)
        np.random.seed(seed)
        network = EncoderNetwork(
            check_encoder_dir(config["model_path"]), len(self.labels), config["trainable_layers"], config["max_length"], seed
        )
        self.network = network
        train_idx, val_idx = stratified_split([self.labels[t] for t in targets], config["validation_fraction"], seed)
        written = len(texts)
        # Noisy copies join the training side only: validation measures the examples as written.
        texts, targets, train_idx = self._with_typing_errors(texts, targets, train_idx, config["typing_error_copies"], seed)
        token_ids = network.tokenize(texts)
        logger.info(
            f"{COMPONENT}: fine-tuning the top {len(network.layers) - network.frozen_layers} of "
            f"{len(network.layers)} layers on {len(train_idx)} examples of {len(self.labels)} intents, "
            f"{len(texts) - written} of them copies with a typing error ({len(val_idx)} held out for validation)"
        )
        # The frozen half never changes: run it once per example and keep its output.
        states: List[Any] = [None] * len(texts)
        for batch in _length_batches([len(t) for t in token_ids], 64):
            for index, state in zip(batch, network.lower([token_ids[i] for i in batch])):
                states[index] = state
        initial_state = {n: p.detach().clone() for n, p in network.trainable_parameters().items()}
        history, kept_epochs = self._train_epochs(states, targets, train_idx, val_idx, config["epochs"])
        network.round_to(config["storage_dtype"])
        network.set_training(False)
        self.temperature = 1.0
        report: Dict[str, Any] = {
            "history": history, "train_examples": len(train_idx), "typing_error_copies": len(texts) - written,
            "validation_examples": len(val_idx),
        }
        if val_idx:
            with torch.inference_mode():
                val_logits = np.concatenate(
                    [network.logits([states[i] for i in b], training=False).numpy() for b in _chunks(val_idx, 64)]
                )
            if config["calibrate_temperature"]:
                self.temperature = fit_temperature(val_logits, targets[val_idx])
            report.update(self._confidence_report(softmax(val_logits / self.temperature), targets[val_idx]))
        if config["refit_on_all_examples"] and val_idx:
            # The held-out run chose the epochs and the temperature; the validation examples
            # now train too, from the same starting point, for that many epochs.
            network.load_state(initial_state)
            everything = sorted(train_idx + val_idx)
            logger.info(f"{COMPONENT}: refitting on all {len(everything)} examples for {kept_epochs} epochs")
            refit_history, _ = self._train_epochs(states, targets, everything, [], kept_epochs)
            network.round_to(config["storage_dtype"])
            network.set_training(False)
            report["refit"] = {"examples": len(everything), "epochs": kept_epochs, "history": refit_history}
        report["temperature"] = round(self.temperature, 4)
        report["train_seconds"] = round(time.perf_counter() - started, 1)
        self.training_report = report
        # From here on it predicts exactly as it will once reloaded from storage.
        network.prepare_for_prediction(bfloat16=uses_bfloat16(config["inference_precision"]))
        logger.info(
            f"{COMPONENT}: trained in {report['train_seconds']} s; temperature {self.temperature:.3f}; "
            f"validation suggests FallbackClassifier threshold <= {report.get('suggested_fallback_threshold')}"
        )

    def _train_epochs(
        self, states: List[Any], targets: np.ndarray, train_idx: List[int], val_idx: List[int], epochs: int
    ) -> Tuple[List[Dict[str, Any]], int]:
        """Trains the upper layers and the head on `train_idx` for up to `epochs` epochs (AdamW,
        warm-up, linear decay), stopping early when the loss on `val_idx` stops improving and
        keeping the best epoch's weights. Returns the per-epoch history and the epochs kept."""
        import torch
        from tqdm import tqdm

        config, network = self.config, self.network
        target_tensor = torch.tensor(targets, dtype=torch.long)
        if len(set(targets[train_idx].tolist())) == len(self.labels):
            network.initialise_head([states[i] for i in train_idx], targets[train_idx], config["C"], config["max_iter"])
        decay, no_decay = [], []
        for name, parameter in network.trainable_parameters().items():
            (no_decay if name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name else decay).append((name, parameter))
        groups = []
        for members, weight_decay in ((decay, config["weight_decay"]), (no_decay, 0.0)):
            for is_head in (False, True):
                params = [p for n, p in members if n.startswith("head.") == is_head]
                if params:
                    lr = config["head_learning_rate"] if is_head else config["learning_rate"]
                    groups.append({"params": params, "lr": lr, "weight_decay": weight_decay})
        optimizer = torch.optim.AdamW(groups)
        lengths = [len(states[i]) for i in train_idx]
        batches_per_epoch = math.ceil(len(train_idx) / config["batch_size"])
        total_steps = batches_per_epoch * epochs
        warmup = int(total_steps * config["warmup_ratio"])
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: (step + 1) / max(1, warmup) if step < warmup else max(0.0, (total_steps - step) / max(1, total_steps - warmup)),
        )
        shuffler = random.Random(config["random_seed"])
        best_loss, best_state, stale, history = math.inf, None, 0, []
        for epoch in range(1, epochs + 1):
            network.set_training(True)
            # Batches of similar length (short padding), visited in a new random order.
            batches = [[train_idx[i] for i in b] for b in _length_batches(lengths, config["batch_size"])]
            shuffler.shuffle(batches)
            running = 0.0
            progress = tqdm(batches, desc=f"{COMPONENT} epoch {epoch}/{epochs}", leave=False, mininterval=2.0)
            for batch in progress:
                logits = network.logits([states[i] for i in batch], training=True)
                loss = torch.nn.functional.cross_entropy(logits, target_tensor[batch])
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                running += float(loss.detach()) * len(batch)
                progress.set_postfix(loss=f"{loss.item():.3f}")
            train_loss = running / max(1, len(train_idx))
            record = {"epoch": epoch, "train_loss": round(train_loss, 4)}
            if val_idx:
                val_loss, val_accuracy = self._validation_scores(states, target_tensor, val_idx)
                record.update(val_loss=round(val_loss, 4), val_accuracy=round(val_accuracy, 4))
            history.append(record)
            logger.info(f"{COMPONENT}: " + ", ".join(f"{k} {v}" for k, v in record.items()))
            if not val_idx:
                continue
            if val_loss < best_loss - 1e-4:
                best_loss, stale = val_loss, 0
                best_state = {n: p.detach().clone() for n, p in network.trainable_parameters().items()}
            else:
                stale += 1
                if stale > config["early_stopping_patience"]:
                    logger.info(f"{COMPONENT}: validation loss stopped improving; keeping epoch {epoch - stale}")
                    break
        if best_state is not None:
            network.load_state(best_state)
        kept = len(history) if best_state is None else len(history) - stale
        return history, kept

    @staticmethod
    def _with_typing_errors(
        texts: List[str], targets: np.ndarray, train_idx: List[int], copies: int, seed: int
    ) -> Tuple[List[str], np.ndarray, List[int]]:
        """`texts` and `targets` extended by `copies` noisy copies of each training example,
        and the training indices extended by the copies' indices."""
        rng = random.Random(seed)
        noisy: List[Tuple[str, int]] = []
        for _ in range(copies):
            for index in train_idx:
                copy = with_typing_error(texts[index], rng)
                if copy is not None:
                    noisy.append((copy, int(targets[index])))
        if not noisy:
            return texts, targets, train_idx
        extended_idx = train_idx + list(range(len(texts), len(texts) + len(noisy)))
        return texts + [text for text, _ in noisy], np.concatenate([targets, [t for _, t in noisy]]), extended_idx

    def _validation_scores(self, states: List[Any], targets: Any, val_idx: List[int]) -> Tuple[float, float]:
        import torch

        self.network.set_training(False)
        total, correct = 0.0, 0
        with torch.inference_mode():
            for batch in _chunks(val_idx, 64):
                logits = self.network.logits([states[i] for i in batch], training=False)
                total += float(torch.nn.functional.cross_entropy(logits, targets[batch], reduction="sum"))
                correct += int((logits.argmax(1) == targets[batch]).sum())
        self.network.set_training(True)
        return total / len(val_idx), correct / len(val_idx)

    @staticmethod
    def _confidence_report(probabilities: np.ndarray, targets: np.ndarray) -> Dict[str, Any]:
        """Validation accuracy, and the highest fallback threshold that would send at most 2%
        of correctly understood validation messages to the fallback."""
        predicted = probabilities.argmax(1)
        confidence = probabilities.max(1)
        correct = confidence[predicted == targets]
        threshold = float(np.quantile(correct, 0.02)) if len(correct) else None
        return {
            "validation_accuracy": round(float((predicted == targets).mean()), 4),
            "suggested_fallback_threshold": round(threshold, 3) if threshold is not None else None,
        }

    # -------------------------------------------------------------------- persistence

    def persist(self) -> None:
        """Saves the trained parts, the tokenizer and the settings through model storage."""
        from safetensors.torch import save_file

        with self._model_storage.write_to(self._resource) as directory:
            directory = Path(directory)
            meta: Dict[str, Any] = {
                "mode": self.config["mode"],
                "labels": self.labels,
                "encoder": encoder_fingerprint(self.config["model_path"]),
                "temperature": self.temperature,
                "training": self.training_report,
            }
            if self.config["mode"] == "frozen_logistic":
                np.savez(directory / LOGISTIC_FILE, weights=self.logistic[0], bias=self.logistic[1])
            else:
                network = self.network
                save_file(network.state_to_save(self.config["storage_dtype"]), str(directory / WEIGHTS_FILE))
                network.tokenizer.save_pretrained(str(directory / TOKENIZER_DIR))
                meta.update(
                    frozen_fingerprint=network.frozen_fingerprint(),
                    trainable_layers=len(network.layers) - network.frozen_layers,
                    max_length=network.max_length,
                    prompt=network.prompt,
                )
            (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MultilingualIntentClassifier:
        """Loads a trained classifier; refuses an encoder other than the one it was trained on."""
        try:
            with model_storage.read_from(resource) as directory:
                return cls._load_from(Path(directory), config, model_storage, resource)
        except EncoderMismatchError:
            raise
        except (ValueError, FileNotFoundError) as error:
            logger.warning(f"{COMPONENT}: no trained model found ({error}); predicting nothing.")
            return cls(config, model_storage, resource)

    @classmethod
    def _load_from(
        cls, directory: Path, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource
    ) -> MultilingualIntentClassifier:
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        meta = json.loads((directory / META_FILE).read_text())
        current = encoder_fingerprint(config["model_path"])
        mismatch = (
            f"{COMPONENT} was trained on encoder {{trained!r}} but '{config['model_path']}' holds "
            f"{{current!r}}. Retrain with `rasa train`, or point model_path to the encoder it was trained on."
        )
        if meta["encoder"] != current:
            raise EncoderMismatchError(mismatch.format(trained=meta["encoder"], current=current))
        config = {**config, "mode": meta["mode"]}
        if meta["mode"] == "frozen_logistic":
            arrays = np.load(directory / LOGISTIC_FILE)
            return cls(config, model_storage, resource, labels=meta["labels"], logistic=(arrays["weights"], arrays["bias"]))
        torch.set_num_threads(config["threads"])
        network = EncoderNetwork(
            check_encoder_dir(config["model_path"]), len(meta["labels"]), meta["trainable_layers"], meta["max_length"], 0
        )
        if network.frozen_fingerprint() != meta["frozen_fingerprint"]:
            raise EncoderMismatchError(
                mismatch.format(trained=meta["frozen_fingerprint"], current=network.frozen_fingerprint())
                + " (the frozen weights differ)"
            )
        network.tokenizer = AutoTokenizer.from_pretrained(str(directory / TOKENIZER_DIR), local_files_only=True)
        network.prompt = meta["prompt"]
        network.load_state(load_file(str(directory / WEIGHTS_FILE)))
        network.set_training(False)
        network.prepare_for_prediction(bfloat16=uses_bfloat16(config["inference_precision"]))
        with cpu_inference(config["inference_threads"], config["inference_precision"]):
            network.warm_up()
        return cls(
            config, model_storage, resource, network=network, labels=meta["labels"],
            temperature=float(meta["temperature"]), training_report=meta.get("training"),
        )

    # --------------------------------------------------------------------- prediction

    def predict_probabilities(self, texts: List[str]) -> np.ndarray:
        """Calibrated intent probabilities for each text (columns follow `self.labels`)."""
        if self.config["mode"] == "frozen_logistic":
            vectors = load_encoder(self.config["model_path"], self.config["threads"]).embed_queries(texts)
            return softmax(vectors @ self.logistic[0].T + self.logistic[1])
        with cpu_inference(self.config["inference_threads"], self.config["inference_precision"]):
            logits = self.network.predict_logits(texts, self.config["inference_batch_size"])
        return softmax(logits / self.temperature)

    @property
    def is_trained(self) -> bool:
        return bool(self.labels) and (self.network is not None or self.logistic is not None)

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the intent and the intent ranking to each message, in batches."""
        with_text = [m for m in messages if m.get(TEXT)]
        if not self.is_trained or not with_text:
            return messages
        probabilities = self.predict_probabilities([m.get(TEXT) for m in with_text])
        limit = self.config["ranking_length"] or len(self.labels)
        for message, row in zip(with_text, probabilities):
            order = np.argsort(-row, kind="stable")[:limit]
            ranking = [{"name": self.labels[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


def _chunks(items: Sequence[int], size: int) -> List[List[int]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
