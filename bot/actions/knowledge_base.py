"""Action: sends the historical answer KnowledgeBaseRetriever found for the latest message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.message_keys import LANGUAGE

ANSWER_SLOT = "knowledge_base_answer_id"


def answer_in_language(found: dict[str, Any], language: str | None) -> tuple[str, str]:
    """(text, its language) of the found answer for a customer in `language`.

    The version the company wrote in the customer's language (the entry's `answers`)
    wins; otherwise the answer as stored, which the NLG then translates.
    """
    best = next((hit for hit in found.get("hits") or [] if hit.get("id") == found["answer_id"]), {})
    versions = best.get("versions") or {}
    if language and language != found["answer_language"] and language in versions:
        return versions[language], language
    return found["answer"], found["answer_language"]


class ActionAnswerFromKnowledgeBase(Action):
    """Answers with the best historical answer, or asks to rephrase / offers a human.

    The answer goes out through `utter_knowledge_base_answer` with its language, id and
    score as response arguments: the NLG translates the filled text unless it is already in
    the customer's language (a per-language version, reported as `translation: authored`),
    and Rasa stores the arguments in the bot message's metadata, so the transcript shows
    which answer was sent.
    """

    def name(self) -> str:
        return "action_answer_from_knowledge_base"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        found = tracker.latest_message.get("knowledge_base") or {}
        if not found.get("answered") or not found.get("answer"):
            dispatcher.utter_message(response="utter_knowledge_base_no_answer")
            return []
        text, text_language = answer_in_language(found, tracker.get_slot(LANGUAGE))
        dispatcher.utter_message(
            response="utter_knowledge_base_answer",
            answer=text,
            answer_language=text_language,
            answer_id=found["answer_id"],
            score=round(float(found["score"]), 3),
        )
        return [SlotSet(ANSWER_SLOT, found["answer_id"])]
