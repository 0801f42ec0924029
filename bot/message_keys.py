"""Keys of what Bridge's NLU components put on a message, and the channel's language hint.

The LanguageDetector writes these properties (they appear in the parse data, hence in
every transcript); the components after it and the NLG read them. They live here so that
a reader depends on the message's contract, not on the component that writes it.

    language             the turn's decided language (ISO 639-1), or None
    language_confidence  0..1
    language_method      script | lexicon | model | hint | no_evidence | weak_evidence | unsupported
    language_supported   False when the turn is in a language the bot does not speak
    language_detected    the language seen (the unsupported one, or the best candidate)
    supported_languages  on an unsupported turn: the languages the bot speaks
"""

from __future__ import annotations

from typing import Any

LANGUAGE = "language"
LANGUAGE_CONFIDENCE = "language_confidence"
LANGUAGE_METHOD = "language_method"
LANGUAGE_SUPPORTED = "language_supported"
LANGUAGE_DETECTED = "language_detected"
SUPPORTED_LANGUAGES = "supported_languages"
# Where Rasa keeps what the channel sent along with the text.
METADATA = "metadata"


def _language_code(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().replace("_", "-").split("-")[0].lower()


def channel_language_hint(metadata: dict[str, Any] | None) -> str | None:
    """The language a channel reports for the customer, if any, as an ISO 639-1 code.

    Understood: `metadata.language` (REST, the web widget's page language), and Telegram's
    `from.language_code`, at the top level or inside `message`. Regional codes such as
    "pt-BR" are reduced to "pt".

    Example:
        >>> channel_language_hint({"message": {"from": {"language_code": "pt-BR"}}})
        'pt'
    """
    if not isinstance(metadata, dict):
        return None
    found = _language_code(metadata.get(LANGUAGE)) or _language_code(metadata.get("language_code"))
    for container in (metadata, metadata.get("message")):
        sender = container.get("from") if isinstance(container, dict) else None
        if not found and isinstance(sender, dict):
            found = _language_code(sender.get("language_code"))
    return found
