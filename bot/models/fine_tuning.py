"""The training loop of the fine-tuned intent classifier: split, train, stop early, calibrate, refit.

Made to fit 2 CPU cores: the frozen part of the network runs once per example and its
output is cached; only the upper blocks and the head train (AdamW, linear warm-up and
decay, fixed seed). A stratified share of each intent is held out: it picks the epoch to
stop at and fits the softmax temperature (bot/models/calibration.py). Then, with the
epochs and the temperature that run chose, training can repeat from the same start on
every example, so that the held-out ones are learned too. Noisy copies of the training
examples with one typing error ("teack my order") may join the training side; customers'
typos are a common cause of misunderstood turns.

Example:
    >>> network = EncoderNetwork(model_path, len(labels), trainable_layers=4, max_length=64, seed=42)
    >>> result = fine_tune(network, texts, targets, labels, FineTuningSettings.from_config(config))
    >>> result.temperature, result.report["history"][-1]
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, fields
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np

from bot.language.typing_errors import with_typing_error
from bot.models.calibration import confidence_report, fit_temperature, softmax
from bot.models.encoder_network import EncoderNetwork
from bot.models.fused_sentence_pass import length_batches

logger = logging.getLogger(__name__)

# Texts per forward pass of the steps that only run the network (no optimisation step).
INFERENCE_BATCH = 64


@dataclass(frozen=True)
class FineTuningSettings:
    """How to train; the names and meanings are MultilingualIntentClassifier's config keys."""

    epochs: int
    batch_size: int
    learning_rate: float
    head_learning_rate: float
    weight_decay: float
    warmup_ratio: float
    validation_fraction: float
    early_stopping_patience: int
    refit_on_all_examples: bool
    random_seed: int
    calibrate_temperature: bool
    typing_error_copies: int
    storage_dtype: str
    C: float
    max_iter: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FineTuningSettings:
        """The settings a component's (validated) config holds."""
        return cls(**{field.name: config[field.name] for field in fields(cls)})


@dataclass
class FineTuningResult:
    """The temperature the confidences are divided by, and what training did (stored as JSON)."""

    temperature: float
    report: Dict[str, Any]


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


def with_typing_error_copies(
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


def fine_tune(
    network: EncoderNetwork, texts: List[str], targets: np.ndarray, labels: Sequence[str], settings: FineTuningSettings
) -> FineTuningResult:
    """Trains `network` on `texts` (their label indices `targets` into `labels`); afterwards it
    predicts exactly as it will once stored in `settings.storage_dtype` and reloaded."""
    import torch

    seed = settings.random_seed
    train_idx, val_idx = stratified_split([labels[t] for t in targets], settings.validation_fraction, seed)
    written = len(texts)
    # Noisy copies join the training side only: validation measures the examples as written.
    texts, targets, train_idx = with_typing_error_copies(texts, targets, train_idx, settings.typing_error_copies, seed)
    token_ids = network.tokenize(texts)
    logger.info(
        f"fine-tuning the top {len(network.layers) - network.frozen_layers} of "
        f"{len(network.layers)} layers on {len(train_idx)} examples of {len(labels)} intents, "
        f"{len(texts) - written} of them copies with a typing error ({len(val_idx)} held out for validation)"
    )
    # The frozen half never changes: run it once per example and keep its output.
    states: List[Any] = [None] * len(texts)
    for batch in length_batches([len(t) for t in token_ids], INFERENCE_BATCH):
        for index, state in zip(batch, network.lower([token_ids[i] for i in batch])):
            states[index] = state
    initial_state = {n: p.detach().clone() for n, p in network.trainable_parameters().items()}
    history, kept_epochs = _train_epochs(network, states, targets, train_idx, val_idx, settings.epochs, settings)
    network.round_to(settings.storage_dtype)
    network.set_training(False)
    temperature = 1.0
    report: Dict[str, Any] = {
        "history": history, "train_examples": len(train_idx), "typing_error_copies": len(texts) - written,
        "validation_examples": len(val_idx),
    }
    if val_idx:
        with torch.inference_mode():
            val_logits = np.concatenate([
                network.logits([states[i] for i in batch], training=False).numpy()
                for batch in _chunks(val_idx, INFERENCE_BATCH)
            ])
        if settings.calibrate_temperature:
            temperature = fit_temperature(val_logits, targets[val_idx])
        report.update(confidence_report(softmax(val_logits / temperature), targets[val_idx]))
    if settings.refit_on_all_examples and val_idx:
        # The held-out run chose the epochs and the temperature; the validation examples
        # now train too, from the same starting point, for that many epochs.
        network.load_state(initial_state)
        everything = sorted(train_idx + val_idx)
        logger.info(f"refitting on all {len(everything)} examples for {kept_epochs} epochs")
        refit_history, _ = _train_epochs(network, states, targets, everything, [], kept_epochs, settings)
        network.round_to(settings.storage_dtype)
        network.set_training(False)
        report["refit"] = {"examples": len(everything), "epochs": kept_epochs, "history": refit_history}
    report["temperature"] = round(temperature, 4)
    return FineTuningResult(temperature=temperature, report=report)


def _train_epochs(
    network: EncoderNetwork,
    states: List[Any],
    targets: np.ndarray,
    train_idx: List[int],
    val_idx: List[int],
    epochs: int,
    settings: FineTuningSettings,
) -> Tuple[List[Dict[str, Any]], int]:
    """Trains the upper layers and the head on `train_idx` for up to `epochs` epochs (AdamW,
    warm-up, linear decay), stopping early when the loss on `val_idx` stops improving and
    keeping the best epoch's weights. Returns the per-epoch history and the epochs kept."""
    import torch
    from tqdm import tqdm

    target_tensor = torch.tensor(targets, dtype=torch.long)
    if len(set(targets[train_idx].tolist())) == network.head.out_features:
        network.initialise_head([states[i] for i in train_idx], targets[train_idx], settings.C, settings.max_iter)
    groups = _parameter_groups(network, settings)
    optimizer = torch.optim.AdamW(groups)
    lengths = [len(states[i]) for i in train_idx]
    batches_per_epoch = math.ceil(len(train_idx) / settings.batch_size)
    total_steps = batches_per_epoch * epochs
    warmup = int(total_steps * settings.warmup_ratio)
    def learning_rate_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, learning_rate_factor)
    shuffler = random.Random(settings.random_seed)
    best_loss, best_state, stale, history = math.inf, None, 0, []
    for epoch in range(1, epochs + 1):
        network.set_training(True)
        # Batches of similar length (short padding), visited in a new random order.
        batches = [[train_idx[i] for i in b] for b in length_batches(lengths, settings.batch_size)]
        shuffler.shuffle(batches)
        running = 0.0
        progress = tqdm(batches, desc=f"fine-tuning epoch {epoch}/{epochs}", leave=False, mininterval=2.0)
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
            val_loss, val_accuracy = _validation_scores(network, states, target_tensor, val_idx)
            record.update(val_loss=round(val_loss, 4), val_accuracy=round(val_accuracy, 4))
        history.append(record)
        logger.info(", ".join(f"{k} {v}" for k, v in record.items()))
        if not val_idx:
            continue
        if val_loss < best_loss - 1e-4:
            best_loss, stale = val_loss, 0
            best_state = {n: p.detach().clone() for n, p in network.trainable_parameters().items()}
        else:
            stale += 1
            if stale > settings.early_stopping_patience:
                logger.info(f"validation loss stopped improving; keeping epoch {epoch - stale}")
                break
    if best_state is not None:
        network.load_state(best_state)
    kept = len(history) if best_state is None else len(history) - stale
    return history, kept


def _parameter_groups(network: EncoderNetwork, settings: FineTuningSettings) -> List[Dict[str, Any]]:
    """AdamW's parameter groups: the head learns at its own rate, and biases and layer norms
    get no weight decay (decaying them only pulls them towards zero)."""
    decay, no_decay = [], []
    for name, parameter in network.trainable_parameters().items():
        is_unscaled = name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name
        (no_decay if is_unscaled else decay).append((name, parameter))
    groups = []
    for members, weight_decay in ((decay, settings.weight_decay), (no_decay, 0.0)):
        for is_head in (False, True):
            params = [p for n, p in members if n.startswith("head.") == is_head]
            if params:
                lr = settings.head_learning_rate if is_head else settings.learning_rate
                groups.append({"params": params, "lr": lr, "weight_decay": weight_decay})
    return groups


def _validation_scores(
    network: EncoderNetwork, states: List[Any], targets: Any, val_idx: List[int]
) -> Tuple[float, float]:
    """Mean cross-entropy and accuracy on the held-out examples (dropout off meanwhile)."""
    import torch

    network.set_training(False)
    total, correct = 0.0, 0
    with torch.inference_mode():
        for batch in _chunks(val_idx, INFERENCE_BATCH):
            logits = network.logits([states[i] for i in batch], training=False)
            total += float(torch.nn.functional.cross_entropy(logits, targets[batch], reduction="sum"))
            correct += int((logits.argmax(1) == targets[batch]).sum())
    network.set_training(True)
    return total / len(val_idx), correct / len(val_idx)


def _chunks(items: Sequence[int], size: int) -> List[List[int]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
