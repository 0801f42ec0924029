"""`bridge eval nlu` end to end: Rasa trains the pipeline on a split and the report appears."""

from __future__ import annotations

import json

import pytest

from bot.cli.main import main
from tests.helpers.tiny_encoder import INTENTS, build_tiny_encoder

pytestmark = pytest.mark.slow


def test_bridge_eval_nlu_writes_the_report(tmp_path, capsys):
    encoder = build_tiny_encoder(tmp_path / "tiny", "bert")
    data = tmp_path / "nlu.yml"
    blocks = []
    for intent, texts in INTENTS.items():
        for language, part in (("en", texts[:6]), ("xx", texts[2:])):
            lines = "\n".join(f"    - {t}" for t in part)
            blocks.append(f"- intent: {intent}\n  metadata:\n    language: {language}\n  examples: |\n{lines}\n")
    data.write_text('version: "3.1"\nnlu:\n' + "".join(blocks))
    config = tmp_path / "config.yml"
    config.write_text(
        "recipe: default.v1\nlanguage: en\npipeline:\n"
        "  - name: bot.components.multilingual_intent_classifier.MultilingualIntentClassifier\n"
        f"    model_path: {encoder}\n    threads: 1\n    epochs: 5\n    trainable_layers: 1\n"
        "  - name: FallbackClassifier\n    threshold: 0.3\n"
    )
    out = tmp_path / "report"
    main(["eval", "nlu", "--config", str(config), "--data", str(data), "--out", str(out), "--test-per-group", "2"])
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "per language: en" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_examples"] == 3 * 2 * 2 and summary["train_examples"] == 3 * (6 + 6) - 12
    assert set(summary["per_language"]) == {"en", "xx"}
    report = json.loads((out / "intent_report.json").read_text())
    assert {"accuracy", "macro avg", "weighted avg", *INTENTS} <= set(report)
    assert (out / "intent_confusion_matrix.png").is_file() and (out / "intent_errors.json").is_file()
