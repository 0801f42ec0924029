"""Bot API updates as Telegram sends them to a webhook, for tests of the Telegram channel."""

from __future__ import annotations

import time
import uuid
from typing import Any


def text_update(chat_id: int, text: str, language_code: str) -> dict[str, Any]:
    """An Update with a private chat's text message, as Telegram sends it."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": language_code}
    return {
        "update_id": int(uuid.uuid4().int % 10**9),
        "message": {
            "message_id": 11,
            "date": int(time.time()),
            "text": text,
            "from": person,
            "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
        },
    }


def new_chat_id() -> int:
    return 10**9 + uuid.uuid4().int % 10**9
