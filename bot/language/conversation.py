"""The conversation's language after each turn: the rule Bridge's slot and NLG follow.

At run time the rule is carried out by Rasa itself: a decided turn emits a `language`
entity that fills the `language` slot, an undecided or unsupported turn emits none so the
slot keeps its value, and the NLG answers in the slot's language, else the channel's hint,
else the default. This class states the same rule in one place so that benchmarks and tests
can replay whole conversations without a server.

Example:
    >>> from bot.language.identifier import LanguageIdentifier
    >>> conversation = ConversationLanguage(default_language="en", hint="de")
    >>> conversation.language
    'de'
    >>> conversation.update(LanguageIdentifier(["en", "de", "ko"]).identify("주문 취소"))
    'ko'
"""

from __future__ import annotations

from bot.language.identifier import LanguageGuess


class ConversationLanguage:
    """Follows one conversation's language turn by turn.

    Args:
        default_language: the language before any turn or hint decides one.
        hint: the channel's language for the customer (page language, app language).
    """

    def __init__(self, default_language: str, hint: str | None = None) -> None:
        self.default_language = default_language
        self.hint = hint
        self.slot: str | None = None

    @property
    def language(self) -> str:
        """The language the bot answers in now: the slot, else the hint, else the default."""
        return self.slot or self.hint or self.default_language

    def update(self, guess: LanguageGuess, hint: str | None = None) -> str:
        """Applies one turn (and the hint sent with it); returns the language to answer in."""
        if hint:
            self.hint = hint
        if guess.decided:
            self.slot = guess.language
        return self.language
