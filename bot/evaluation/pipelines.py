"""Trains a Rasa NLU pipeline on a list of examples through Rasa's Python API, and asks it.

Every system compared (Bridge's config.yml, Rasa's default pipeline, a frozen-encoder
baseline) goes through the same path: `rasa.model_training.train_nlu` on a YAML file of the
training examples, then `Agent.parse_message` one message at a time, as the server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.evaluation.datasets import Example, to_training_data
from bot.evaluation.report import Prediction
from bot.offline_env import apply_to_this_process

FALLBACK_INTENT = "nlu_fallback"

# The pipeline `rasa init` (Rasa 3.6) writes for an English bot.
RASA_DEFAULT_PIPELINE: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
    {"name": "EntitySynonymMapper"},
    {"name": "ResponseSelector", "epochs": 100, "constrain_similarities": True},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]


def project_pipeline(config_file: Path) -> list[dict[str, Any]]:
    """The NLU pipeline of a project's config.yml."""
    from rasa.shared.utils.io import read_yaml_file

    pipeline = read_yaml_file(str(config_file)).get("pipeline")
    if not pipeline:
        raise ValueError(f"'{config_file}' has no NLU pipeline; add a `pipeline:` list.")
    return pipeline


def with_options(pipeline: list[dict[str, Any]], component: str, **options: Any) -> list[dict[str, Any]]:
    """A copy of `pipeline` with `options` set on every step whose name ends with `component`."""
    return [{**step, **options} if step["name"].split(".")[-1] == component else dict(step) for step in pipeline]


def with_component_replaced(
    pipeline: list[dict[str, Any]], component: str, replacement: str, keep: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """A copy of `pipeline` in which every step whose name ends with `component` becomes a
    `replacement` step that keeps only the options named in `keep` (the ones both understand)."""
    return [
        {"name": replacement, **{key: step[key] for key in keep if key in step}}
        if step["name"].split(".")[-1] == component
        else dict(step)
        for step in pipeline
    ]


@dataclass
class TrainedPipeline:
    """A trained NLU model archive and how long training took."""

    name: str
    model_path: Path
    train_seconds: float
    _agent: Any = field(default=None, repr=False)
    _loop: Any = field(default=None, repr=False)

    def _load(self) -> None:
        if self._agent is None:
            from rasa.core.agent import Agent

            self._loop = asyncio.new_event_loop()
            self._agent = Agent.load(str(self.model_path))

    def parse(self, text: str) -> dict[str, Any]:
        """Rasa's parse result for one message (what the server would compute)."""
        self._load()
        return self._loop.run_until_complete(self._agent.parse_message(text))

    def predict(self, examples: Sequence[Example]) -> PredictionRun:
        """Parses every example one at a time; the classifier's own top intent is kept even
        when FallbackClassifier replaced it (that is recorded as `handed_off`)."""
        self._load()
        self.parse("warm up")  # first call builds lazily loaded parts
        predictions, seconds = [], []
        for example in examples:
            started = time.perf_counter()
            parsed = self.parse(example.text)
            seconds.append(time.perf_counter() - started)
            ranking = [r for r in parsed.get("intent_ranking") or [] if r["name"] != FALLBACK_INTENT]
            top = ranking[0] if ranking else {"name": None, "confidence": 0.0}
            predictions.append(
                Prediction(
                    text=example.text,
                    intent=example.intent,
                    language=example.language,
                    predicted=str(top["name"]),
                    confidence=float(top["confidence"] or 0.0),
                    handed_off=(parsed.get("intent") or {}).get("name") == FALLBACK_INTENT,
                )
            )
        return PredictionRun(predictions, 1000 * float(np.mean(seconds)) if seconds else 0.0)

    def component_ms_per_message(self, components: Sequence[type], texts: Sequence[str]) -> float | None:
        """Milliseconds the first of `components` the pipeline uses takes alone per message, one
        message at a time, loaded from the archive as the server loads it; None when it uses none."""
        from rasa.engine.graph import ExecutionContext
        from rasa.engine.storage.local_model_storage import LocalModelStorage
        from rasa.shared.nlu.training_data.message import Message

        with tempfile.TemporaryDirectory(prefix="bridge-eval-storage-") as storage_dir:
            storage, metadata = LocalModelStorage.from_model_archive(Path(storage_dir), self.model_path)
            node = next((n for n in metadata.predict_schema.nodes.values() if n.uses in components), None)
            if node is None:
                return None
            component = node.uses
            context = ExecutionContext(metadata.predict_schema, metadata.model_id)
            loaded = component.load({**component.get_default_config(), **node.config}, storage, node.resource, context)
            loaded.process([Message(data={"text": "warm up"})])
            seconds = []
            for text in texts:
                started = time.perf_counter()
                loaded.process([Message(data={"text": text})])
                seconds.append(time.perf_counter() - started)
        return 1000 * float(np.mean(seconds)) if seconds else None

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
        self._agent = self._loop = None


@dataclass
class PredictionRun:
    predictions: list[Prediction]
    ms_per_message: float


def train_pipeline(
    name: str,
    pipeline: list[dict[str, Any]],
    examples: Sequence[Example],
    output_dir: Path | None = None,
    quiet: bool = True,
    cache: bool = False,
) -> TrainedPipeline:
    """Trains `pipeline` on `examples` with `rasa.model_training.train_nlu`.

    Args:
        name: model name (file name of the archive).
        pipeline: the NLU pipeline, as in config.yml.
        examples: labelled training examples.
        output_dir: where the archive goes (a temporary folder when None).
        quiet: silence Rasa's training chatter on stdout (our own progress logs remain).
        cache: let Rasa reuse components trained before on the same config and data (its
            training cache), e.g. a classifier when only a later component's settings changed;
            then the training time is not a measurement.
    """
    # Rasa trains in this process (bench, `bridge eval`): give it the environment a Rasa
    # process Bridge starts has, before Rasa's import below loads torch.
    apply_to_this_process()
    from rasa.engine.caching import CACHE_SIZE_ENV
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.utils.io import write_yaml

    output_dir = output_dir or Path(tempfile.mkdtemp(prefix="bridge-eval-"))
    output_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bridge-eval-data-", dir=output_dir))
    config_file, data_file = work / "config.yml", work / "nlu.yml"
    write_yaml(
        {"recipe": "default.v1", "language": "en", "assistant_id": f"bridge-eval-{name}", "pipeline": pipeline},
        config_file,
    )
    RasaYAMLWriter().dump(data_file, to_training_data(examples))
    logging.getLogger(__name__).info(f"training '{name}' on {len(examples)} examples")
    # Rasa reuses components trained on the same config and data from its cache; a
    # benchmark that did so would report seconds of cache lookup as training time.
    if cache:
        os.environ.pop(CACHE_SIZE_ENV, None)
    else:
        os.environ[CACHE_SIZE_ENV] = "0"
    started = time.perf_counter()
    sink = io.StringIO() if quiet else None
    with contextlib.redirect_stdout(sink) if sink else contextlib.nullcontext():
        model = train_nlu(str(config_file), str(data_file), str(output_dir), fixed_model_name=name)
    if not model:
        raise RuntimeError(f"Training '{name}' produced no model; see Rasa's log above.")
    return TrainedPipeline(name, Path(model), time.perf_counter() - started)
