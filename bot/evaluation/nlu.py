"""Evaluates a project's NLU pipeline on a held-out split of its own training data.

Trains the pipeline of config.yml on all but `test_per_group` examples of every intent in
every language, predicts the held-out ones, and writes the report files (see report.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.evaluation.datasets import DEFAULT_SEED, held_out_split, load_nlu_examples
from bot.evaluation.pipelines import project_pipeline, train_pipeline, with_options
from bot.evaluation.report import write_report


def evaluate_project_nlu(
    config_file: Path,
    data_path: Path,
    output_dir: Path,
    test_per_group: int = 3,
    seed: int = DEFAULT_SEED,
    pipeline_overrides: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Trains on the training side of a fixed split, tests on the rest, writes the report.

    Args:
        config_file: the project's config.yml (its `pipeline` is evaluated).
        data_path: NLU file or folder; intents carry `metadata: {language: xx}`.
        output_dir: where intent_report.json, intent_errors.json, the confusion PNG and
            summary.json go.
        test_per_group: held-out examples per intent and language.
        seed: seed of the split.
        pipeline_overrides: {component name: {option: value}} applied to the pipeline.

    Returns:
        The summary (accuracy, macro-F1, per-language accuracy, timings).

    Example:
        >>> evaluate_project_nlu(Path("config.yml"), Path("training_data/nlu"), Path("results/eval/nlu"))
    """
    examples = load_nlu_examples(data_path)
    train, test = held_out_split(examples, test_per_group=test_per_group, seed=seed)
    pipeline = project_pipeline(config_file)
    for component, options in (pipeline_overrides or {}).items():
        pipeline = with_options(pipeline, component, **options)
    output_dir.mkdir(parents=True, exist_ok=True)
    trained = train_pipeline("eval-nlu", pipeline, train, output_dir / "model")
    run = trained.predict(test)
    trained.close()
    return write_report(
        run.predictions,
        output_dir,
        extra={
            "train_examples": len(train),
            "test_examples": len(test),
            "test_per_group": test_per_group,
            "seed": seed,
            "train_seconds": round(trained.train_seconds, 1),
            "ms_per_message": round(run.ms_per_message, 2),
        },
    )
