"""`bridge init DIR`: the project it writes, and the folders it refuses."""

from __future__ import annotations

import pytest
import yaml
from rasa.shared.core.domain import Domain

from bot.cli.init import TEMPLATE_DIR, create_project, template_files
from bot.cli.main import main
from bot.knowledge.source import load_entries
from bot.project import encoder_dirs, has_actions, model_name, read_config
from bot.training_data import load_nlu_examples

PIPELINE = [
    "bot.components.language_detector.LanguageDetector",
    "bot.components.frozen_encoder_intent_classifier.FrozenEncoderIntentClassifier",
    "bot.components.knowledge_base_retriever.KnowledgeBaseRetriever",
    "FallbackClassifier",
    "bot.components.unsupported_language_classifier.UnsupportedLanguageClassifier",
]


def test_init_writes_a_complete_project_named_after_its_folder(tmp_path, capsys):
    project = tmp_path / "acme-support"
    main(["init", str(project)])
    assert "created a Bridge project" in capsys.readouterr().out
    written = ("config.yml", "credentials.yml", "endpoints.yml", "training_data/rules.yml", "knowledge_base/faq.jsonl")
    for name in written:
        assert (project / name).is_file(), name
    config = read_config(project)
    assert [step["name"] for step in config["pipeline"]] == PIPELINE
    assert model_name(config) == "acme-support"
    assert encoder_dirs(project, config) == [project / "build" / "encoders" / "multilingual-e5-small"]
    endpoints = yaml.safe_load((project / "endpoints.yml").read_text())
    assert endpoints["nlg"]["type"] == "bot.nlg.translating_nlg.TranslatingNLG"
    assert has_actions(project)


def test_the_starter_bot_speaks_two_languages_with_every_response_in_both(tmp_path):
    create_project(tmp_path / "bot")
    examples = load_nlu_examples(tmp_path / "bot" / "training_data" / "nlu")
    assert {e.language for e in examples} == {"en", "es"}
    assert {e.intent for e in examples} == {"greet", "goodbye", "opening_hours", "out_of_scope"}
    domain = Domain.load(str(tmp_path / "bot" / "training_data" / "domain"))
    for response, variants in domain.responses.items():
        languages = {c["value"] for v in variants for c in v.get("condition") or [] if c["name"] == "language"}
        assert languages == {"en", "es"} or response == "utter_knowledge_base_answer", response
    entries = load_entries(tmp_path / "bot" / "knowledge_base")
    assert entries and all(entry.questions for entry in entries)


def test_encoder_option_points_both_encoder_components_at_the_folder(tmp_path):
    encoder = tmp_path / "shared models" / "e5"
    create_project(tmp_path / "bot", assistant_id="shop-bot", encoder=str(encoder))
    config = read_config(tmp_path / "bot")
    assert model_name(config) == "shop-bot"
    assert encoder_dirs(tmp_path / "bot", config) == [encoder]


def test_a_folder_with_files_is_refused_unless_forced(tmp_path):
    project = tmp_path / "taken"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="'.*taken' is not empty. Choose a new or empty folder, or pass --force"):
        main(["init", str(project)])
    assert [p.name for p in project.iterdir()] == ["notes.txt"]
    main(["init", str(project), "--force"])
    assert (project / "notes.txt").read_text() == "mine" and (project / "config.yml").is_file()


def test_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit, match="is a file"):
        main(["init", str(tmp_path / "file")])


def test_the_template_ships_no_generated_files():
    assert template_files(), TEMPLATE_DIR
    assert not [p for p in template_files() if p.parts[0] in {"models", "var", "build"} or p.suffix == ".pyc"]
