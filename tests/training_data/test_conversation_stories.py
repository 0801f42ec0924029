"""The demo shop's conversation tests (tests/test_stories.yml), run by `rasa test` on the trained bot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from bot.offline_env import offline_environment
from tests.conftest import PROJECT_DIR

TEST_STORIES = PROJECT_DIR / "tests" / "test_stories.yml"


def story_names() -> list[str]:
    return [story["story"] for story in yaml.safe_load(TEST_STORIES.read_text(encoding="utf-8"))["stories"]]


def test_the_test_stories_use_only_the_demo_domain_and_cover_its_languages(domain: Domain):
    steps = YAMLStoryReader(domain).read_from_file(str(TEST_STORIES))
    events = [event for step in steps for event in step.events]
    assert len(steps) == len(story_names()) >= 10
    unknown_intents = {e.intent_name for e in events if isinstance(e, UserUttered)} - set(domain.intents)
    actions = {e.action_name for e in events if isinstance(e, ActionExecuted)}
    unknown_actions = actions - set(domain.action_names_or_texts)
    assert not unknown_intents and not unknown_actions, (unknown_intents, unknown_actions)
    languages = {entity["value"] for e in events if isinstance(e, UserUttered) for entity in e.entities}
    assert languages == {"en", "es", "pt", "fr", "de", "it", "ru", "zh", "ja", "ko", "ar", "hi"}


@pytest.mark.slow
def test_every_test_story_goes_as_written(demo_model: Path, tmp_path: Path):
    # No endpoints: `rasa test` predicts the actions and runs none, so it needs neither the
    # action server nor the translating NLG.
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("{}\n")
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "rasa",
        "test",
        "core",
        "--model",
        str(demo_model),
        "--stories",
        str(TEST_STORIES),
        "--e2e",
        "--endpoints",
        str(endpoints),
        "--out",
        str(results),
        "--no-plot",
    ]
    run = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=offline_environment({"PYTHONPATH": str(PROJECT_DIR)}),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    # `rasa test` exits 0 with failed stories; they are in its report and failed_test_stories.yml.
    outcome = json.loads((results / "story_report.json").read_text())["conversation_accuracy"]
    failed = (results / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert (outcome["correct"], outcome["total"]) == (len(story_names()), len(story_names())), (
        f"{outcome['total'] - outcome['correct']} of {outcome['total']} test stories failed "
        f"(the '# predicted:' comments say what the bot did instead):\n{failed}"
    )
