"""End to end: `bridge init` makes a bot that `bridge train` trains and the real servers run.

The project is what a company starts from: two languages (en, es), three intents it answers
(plus out_of_scope, which hands a question to the knowledge base) and a small knowledge
base. It is trained by a real `rasa train` and served by the same BotStack `bridge run`
uses; the replies come over Rasa's REST channel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain

from tests.conftest import PROJECT_DIR

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# (language, message, intent, response): none of the messages is in the training data.
REQUESTS = [
    ("en", "hello, good morning to you", "greet", "utter_greet"),
    ("es", "hola, buenos días a todos", "greet", "utter_greet"),
    ("en", "what hours is your support open on weekdays?", "opening_hours", "utter_opening_hours"),
    ("es", "¿qué horario tiene el soporte entre semana?", "opening_hours", "utter_opening_hours"),
    ("es", "muchas gracias, adiós", "goodbye", "utter_goodbye"),
]


def bridge(project: Path, *args: str) -> str:
    """Runs `bridge ARGS` in the project as a user would; returns what it printed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def project(encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made by `bridge init` and trained by `bridge train`."""
    folder = tmp_path_factory.mktemp("new-project") / "acme-support"
    print(bridge(folder.parent, "init", folder.name, "--encoder", str(encoder_dir)))
    print(bridge(folder, "train").splitlines()[-1])
    return folder


@pytest.fixture(scope="module")
def stack(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from bot.serving.processes import BotStack, free_port, write_endpoints

    work = tmp_path_factory.mktemp("new-project-stack")
    action_port = free_port()
    served = BotStack(
        project_dir=project,
        model=project / "models" / "acme-support.tar.gz",
        endpoints=write_endpoints(project / "endpoints.yml", work / "endpoints.yml", action_port, work / "tracker.db"),
        rasa_port=free_port(),
        action_port=action_port,
        chat_port=None,
        log_dir=work / "logs",
    )
    served.start()
    yield served
    served.stop()


def send(stack, sender: str, text: str) -> list[str]:
    payload = json.dumps({"sender": sender, "message": text}).encode()
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    request = urllib.request.Request(url, payload, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return [reply["text"] for reply in json.loads(response.read()) if "text" in reply]


def latest_message(stack, sender: str) -> dict:
    with urllib.request.urlopen(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=30) as response:
        return json.loads(response.read())["latest_message"]


def authored(project: Path, response: str, language: str) -> str:
    for variant in Domain.load(str(project / "training_data" / "domain")).responses[response]:
        if any(c["name"] == "language" and c["value"] == language for c in variant.get("condition", [])):
            return variant["text"]
    raise KeyError(f"{response} has no {language} variant")


@pytest.mark.parametrize("language, text, intent, response", REQUESTS, ids=[f"{r[0]}-{r[2]}" for r in REQUESTS])
def test_the_new_bot_answers_in_the_customers_language(project, stack, language, text, intent, response):
    sender = f"new-{language}-{uuid.uuid4().hex[:8]}"
    replies = send(stack, sender, text)
    parse = latest_message(stack, sender)
    print(f"[{language}] {text!r} -> {parse['intent']['name']} ({parse['intent']['confidence']:.2f}) {replies!r}")
    assert (parse["intent"]["name"], parse["language"]) == (intent, language)
    assert replies == [authored(project, response, language)]


# (language, question, the answer in knowledge_base/faq.jsonl, written in that language)
KNOWLEDGE_BASE_QUESTIONS = [
    (
        "en",
        "Which countries do you ship to?",
        "We ship to every country of the European Union, the United Kingdom and Switzerland.",
    ),
    ("es", "¿Puedo pagar con PayPal?", "Sí, aceptamos PayPal, tarjetas Visa y Mastercard y transferencia bancaria."),
]


@pytest.mark.parametrize("language, text, answer", KNOWLEDGE_BASE_QUESTIONS, ids=["en", "es"])
def test_the_new_bot_answers_from_its_knowledge_base(project, stack, language, text, answer):
    sender = f"new-kb-{language}-{uuid.uuid4().hex[:8]}"
    replies = send(stack, sender, text)
    parse = latest_message(stack, sender)
    print(f"[{language}] {text!r} -> {parse['intent']['name']} ({parse['intent']['confidence']:.2f}) {replies!r}")
    assert parse["intent"]["name"] == "knowledge_base_question"
    assert replies == [answer]


def test_an_unchanged_project_is_not_retrained_after_a_comment_edit(project):
    model = project / "models" / "acme-support.tar.gz"
    trained_at = model.stat().st_mtime_ns
    config = project / "config.yml"
    config.write_text(config.read_text() + "# Reviewed by the support team.\n")
    assert "is up to date; not retraining" in bridge(project, "train")
    assert model.stat().st_mtime_ns == trained_at
