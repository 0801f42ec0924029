"""A small client of Telegram's Bot API, and the rules of what a Telegram message may hold.

Only what Bridge calls: sendMessage, answerCallbackQuery and setWebhook, over aiohttp (already
installed with Rasa). Also the mapping of Rasa buttons to an inline keyboard and the split of
long replies, both pure functions so they are tested without a network.

Example:
    >>> api = TelegramBotApi(token="123:abc")
    >>> await api.call("sendMessage", chat_id=42, text="Hello")
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

DEFAULT_API_URL = "https://api.telegram.org"
# The environment the channel and `bridge telegram` read (secrets only ever come from there).
BOT_TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
API_URL_ENV = "TELEGRAM_API_URL"
# sendMessage refuses longer texts; Telegram counts UTF-16 code units.
MAX_MESSAGE_LENGTH = 4096
# callback_data of an inline button is 1-64 bytes.
MAX_CALLBACK_DATA_BYTES = 64
# What setWebhook accepts as secret_token.
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramApiError(RuntimeError):
    """Telegram answered a call with ok: false (or not at all)."""


def utf16_length(text: str) -> int:
    """The length Telegram measures: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _longest_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    units = 0
    for index, character in enumerate(text):
        units += 2 if ord(character) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_message(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """`text` in pieces Telegram accepts, cut at line breaks, else spaces, else anywhere.

    The break where a cut falls (one newline or space) is dropped; nothing else is lost, and
    no piece is empty.
    """
    pieces: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        fit = _longest_prefix(rest, limit)
        window = rest[: fit + 1]  # a break right after the fitting part also allows a clean cut
        cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            pieces.append(rest[:fit])
            rest = rest[fit:]
        else:
            pieces.append(rest[:cut])
            rest = rest[cut + 1 :]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def inline_keyboard(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """Rasa buttons as Telegram's reply_markup: one button per row.

    A button with a `url` opens it; any other sends its payload back as a callback query.

    Raises:
        ValueError: a payload longer than the 64 bytes Telegram allows in callback_data.
    """
    rows = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "")
        if button.get("url"):
            rows.append([{"text": title, "url": button["url"]}])
            continue
        payload = str(button.get("payload") or title)
        if len(payload.encode()) > MAX_CALLBACK_DATA_BYTES:
            raise ValueError(
                f"The payload of button '{title}' has {len(payload.encode())} bytes; Telegram allows "
                f"{MAX_CALLBACK_DATA_BYTES} in callback_data. "
                "Shorten it in the domain (e.g. an intent without entities)."
            )
        rows.append([{"text": title, "callback_data": payload}])
    return {"inline_keyboard": rows}


class TelegramBotApi:
    """Calls Bot API methods of one bot: POST <api_url>/bot<token>/<method> with a JSON body."""

    def __init__(self, token: str, api_url: str = DEFAULT_API_URL, timeout_seconds: float = 30.0) -> None:
        self.token = token
        self.api_url = api_url.rstrip("/")
        self.timeout_seconds = timeout_seconds

    async def call(self, method: str, **params: Any) -> Any:
        """The method's `result`; TelegramApiError with Telegram's description when it fails."""
        import aiohttp

        url = f"{self.api_url}/bot{self.token}/{method}"
        payload = {key: value for key, value in params.items() if value is not None}
        # A session per call: calls are rare (one per reply) and the CLI runs its own event loop.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_seconds)) as session:
            try:
                async with session.post(url, json=payload) as response:
                    answer: dict[str, Any] | None = await response.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                raise TelegramApiError(f"Telegram {method} failed: {error}") from error
        if not isinstance(answer, dict) or not answer.get("ok"):
            description = answer.get("description") if isinstance(answer, dict) else answer
            raise TelegramApiError(f"Telegram {method} was refused: {description}")
        return answer.get("result")
