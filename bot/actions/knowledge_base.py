"""Action: sends the historical answer KnowledgeBaseRetriever found for the latest message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

ANSWER_SLOT = "knowledge_base_answer_id"


class ActionAnswerFromKnowledgeBase(Action):
    """Answers with the best historical answer, or asks to rephrase / offers a human.

    The answer goes out through `utter_knowledge_base_answer` with its language, id and
    score as response arguments: the NLG translates the filled text, and Rasa stores the
    arguments in the bot message's metadata, so the transcript shows which answer was sent.
    """

    def name(self) -> str:
        return "action_answer_from_knowledge_base"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        found = tracker.latest_message.get("knowledge_base") or {}
        if not found.get("answered") or not found.get("answer"):
            dispatcher.utter_message(response="utter_knowledge_base_no_answer")
            return []
        dispatcher.utter_message(
            response="utter_knowledge_base_answer",
            answer=found["answer"],
            answer_language=found["answer_language"],
            answer_id=found["answer_id"],
            score=round(float(found["score"]), 3),
        )
        return [SlotSet(ANSWER_SLOT, found["answer_id"])]
