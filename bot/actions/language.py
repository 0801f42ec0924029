"""Action: tells a customer who wrote in a language the bot does not speak which it does."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.language.codes import native_name

SUPPORTED_LANGUAGES = "supported_languages"
RESPONSE = "utter_unsupported_language"


def spoken_languages(tracker: Tracker, domain: dict[str, Any]) -> list[str]:
    """The languages to offer: those the LanguageDetector lists on the turn, else every
    language the response is written in."""
    listed = tracker.latest_message.get(SUPPORTED_LANGUAGES)
    if listed:
        return list(listed)
    variants = (domain.get("responses") or {}).get(RESPONSE, [])
    return [c["value"] for v in variants for c in v.get("condition") or [] if c.get("name") == "language"]


class ActionReplyUnsupportedLanguage(Action):
    """Lists the supported languages by their own names and offers a human agent.

    The reply comes in the conversation's language: the turn set no language, so the
    `language` slot (else the channel hint, else the default) still holds it.
    """

    def name(self) -> str:
        return "action_reply_unsupported_language"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        names = ", ".join(native_name(code) for code in spoken_languages(tracker, domain))
        dispatcher.utter_message(response=RESPONSE, languages=names)
        return []
