"""`bridge train` retrains exactly when an input that shapes the model changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.init import create_project
from bot.cli.main import main
from bot.cli.training import inputs_hash, train_if_changed

ENCODER = "test-encoder-identity"


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh project from `bridge init` (its model is models/bot.tar.gz)."""
    create_project(tmp_path / "bot")
    return tmp_path / "bot"


def test_a_comment_or_layout_edit_of_the_config_keeps_the_hash(project):
    before = inputs_hash(project, ENCODER)
    config = project / "config.yml"
    config.write_text("# Our support bot.\n" + config.read_text().replace("threshold: 0.5", "threshold:   0.5  # why"))
    assert inputs_hash(project, ENCODER) == before


def test_a_setting_data_or_encoder_change_changes_the_hash(project):
    before = inputs_hash(project, ENCODER)
    config = project / "config.yml"
    original = config.read_text()
    config.write_text(original.replace("threshold: 0.5", "threshold: 0.6"))
    assert inputs_hash(project, ENCODER) != before
    config.write_text(original)
    assert inputs_hash(project, ENCODER) == before
    nlu = project / "training_data" / "nlu" / "en.yml"
    nlu.write_text(nlu.read_text().replace("    - hiya\n", "    - hiya\n    - howdy\n"))
    assert inputs_hash(project, ENCODER) != before
    assert inputs_hash(project, "another-encoder") != inputs_hash(project, ENCODER)


def test_a_knowledge_base_source_an_importer_trains_on_counts_as_training_data(project):
    faq = project / "knowledge_base" / "faq.jsonl"
    original = faq.read_text()
    config = project / "config.yml"
    with_importer = config.read_text()
    config.write_text(with_importer.split("importers:")[0] + "pipeline:" + with_importer.split("\npipeline:", 1)[1])
    untrained = inputs_hash(project, ENCODER)
    faq.write_text(original.replace("?", "??", 1))
    assert inputs_hash(project, ENCODER) == untrained  # no importer trains on it: answers change without retraining
    faq.write_text(original)
    config.write_text(with_importer)  # the starter bot's importer learns the knowledge base's questions
    before = inputs_hash(project, ENCODER)
    faq.write_text(original.replace("?", "??", 1))
    assert inputs_hash(project, ENCODER) != before


def test_an_unchanged_project_reuses_its_model_without_starting_rasa(project, capsys):
    models = project / "models"
    models.mkdir()
    (models / "bot.tar.gz").write_bytes(b"a model")
    (models / "bot.inputs-sha256").write_text(inputs_hash(project, ENCODER) + "\n")
    config = project / "config.yml"
    config.write_text(config.read_text() + "# a comment added after training\n")
    assert train_if_changed(project, ENCODER) == models / "bot.tar.gz"
    assert "is up to date; not retraining" in capsys.readouterr().out


def test_train_outside_a_project_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="No config.yml in .*create one with `bridge init DIR`"):
        main(["train"])


@pytest.mark.slow
def test_a_project_rasa_cannot_train_ends_in_one_line_that_says_so(tmp_path, encoder_dir, monkeypatch):
    project = tmp_path / "broken"
    create_project(project, encoder=str(encoder_dir))
    next((project / "training_data" / "domain").rglob("*.yml")).write_text("responses: [not a mapping\n")
    monkeypatch.chdir(project)
    with pytest.raises(SystemExit, match=r"bridge: rasa train failed \(exit code \d+\).*`bridge train` again"):
        main(["train"])
