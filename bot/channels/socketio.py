"""Rasa's socket.io channel with working session persistence, for the web widgets.

With `session_persistence: true`, Rasa 3.6 puts each browser connection into the room named
after its session id, and sends every bot message to that room. Its handler calls
`AsyncServer.enter_room` without awaiting it, and in the python-socketio Rasa installs (5.x,
where the method is a coroutine) the connection therefore never joins the room: the bot's
replies and any message pushed later (an agent's reply) reach nobody. This channel keeps
Rasa's URL (/socket.io), events and options and replaces only that handler.

credentials.yml (the same keys as Rasa's `socketio`):

    bot.channels.socketio.BridgeSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      metadata_key: customData     # widgets send the page language as customData.language
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class BridgeSocketIOInput(SocketIOInput):
    """Rasa's SocketIOInput whose session requests really join the session's room."""

    @classmethod
    def name(cls) -> str:
        """Same name as Rasa's channel, so `output_channel=socketio` and "latest" find it."""
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio

        async def session_request(sid: str, data: dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, data["session_id"], namespace=self.namespace)
                if inspect.isawaitable(joined):  # a coroutine from python-socketio 5.x on
                    await joined
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)
            logger.debug(f"socket.io connection {sid} joined session {data['session_id']}.")

        # Registering the event again replaces Rasa's handler.
        sio.on("session_request", namespace=self.namespace)(session_request)
        return socketio_webhook
