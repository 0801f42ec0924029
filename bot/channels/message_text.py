"""What every public channel accepts as a customer's message text, checked the same way.

A message is text of at most MAX_MESSAGE_CHARS characters with something in it besides
spaces. Control characters (NUL, escape sequences, bells ...) are removed first, except line
breaks and tabs: they mean nothing to the bot, and a NUL is refused by PostgreSQL, so a
tracker store there would fail to save the turn. Everything else (emoji, any script, text
that looks like SQL or HTML) is the customer's and goes to the bot unchanged: the tracker
store binds it as a parameter and the widgets insert it as text, never as markup.

Example:
    >>> checked_text("where is\\x00 my order?\\x1b[31m")
    'where is my order?[31m'
    >>> checked_text("   ")
    Traceback (most recent call last):
    ...
    bot.channels.message_text.MessageTextError: The message is empty: there is nothing to answer. ...
"""

from __future__ import annotations

import unicodedata
from typing import Any

MAX_MESSAGE_CHARS = 2000
KEPT_CONTROLS = {"\n", "\t"}


class MessageTextError(ValueError):
    """A message the bot cannot answer; the text says what to send instead."""


def without_controls(text: str) -> str:
    """`text` without control characters other than line breaks and tabs."""
    return "".join(c for c in text if c in KEPT_CONTROLS or unicodedata.category(c) != "Cc")


def checked_text(text: Any) -> str:
    """The message text the bot gets, or a MessageTextError naming what is wrong and the fix."""
    if not isinstance(text, str):
        raise MessageTextError("The message is not text: send the customer's message as a string.")
    text = without_controls(text)
    if not text.strip():
        raise MessageTextError("The message is empty: there is nothing to answer. Send the customer's text.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageTextError(
            f"The message has {len(text)} characters; at most {MAX_MESSAGE_CHARS} are answered. "
            f"Split it into shorter messages."
        )
    return text
