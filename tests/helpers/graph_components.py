"""Train, persist and reload a Rasa graph component the way `rasa train` and the server do.

Each trainable component's tests train it on Rasa's real local model storage, load it back
from there, and compare what both give on the same messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.message_keys import LANGUAGE

Component = TypeVar("Component", bound=GraphComponent)
RESOURCE = "intent_classifier"


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def created(component: type[Component], storage_dir: Path, config: dict[str, Any]) -> Component:
    """`component` as `rasa train` creates it, storing into `storage_dir`."""
    storage_dir.mkdir(parents=True, exist_ok=True)
    return component.create(config, LocalModelStorage(storage_dir), Resource(RESOURCE), _context())


def trained(component: type[Component], storage_dir: Path, config: dict[str, Any], data: TrainingData) -> Component:
    """`component` created and trained on `data` (which persists it into `storage_dir`)."""
    instance = created(component, storage_dir, config)
    instance.train(data)
    return instance


def reloaded(component: type[Component], storage_dir: Path, config: dict[str, Any]) -> Component:
    """`component` loaded from `storage_dir` as the server loads a trained model."""
    return component.load(config, LocalModelStorage(storage_dir), Resource(RESOURCE), _context())


def intent_rankings(
    component: GraphComponent, texts: list[str], language: str | None = None
) -> list[list[dict[str, Any]]]:
    """The intent ranking `component.process` puts on a message of each text (found in `language`,
    as the LanguageDetector marks it, when given)."""
    messages = [Message(data={"text": t, **({LANGUAGE: language} if language else {})}) for t in texts]
    component.process(messages)
    return [m.get("intent_ranking") for m in messages]
