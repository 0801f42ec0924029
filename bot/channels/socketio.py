"""Rasa's socket.io channel with working session persistence, for the web widgets.

With `session_persistence: true`, Rasa 3.6 puts each browser connection into the room named
after its session id, and sends every bot message to that room. Its handler calls
`AsyncServer.enter_room` without awaiting it, and in the python-socketio Rasa installs (5.x,
where the method is a coroutine) the connection therefore never joins the room: the bot's
replies and any message pushed later (an agent's reply) reach nobody. This channel keeps
Rasa's URL (/socket.io), events and options and replaces only that handler. It also checks each
user message as the other channels do (bot/channels/message_text.py): a message that is not an
object, empty, too long or with metadata that is not an object gets a `bridge_error` event
({"status": 400, "error": why}) instead of a reply, and is not stored; so does a session over its
rate limit (status 429 and `retry_after` in seconds, see bot/channels/rate_limit.py).

credentials.yml (the same keys as Rasa's `socketio`):

    bot.channels.socketio.BridgeSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      metadata_key: customData     # widgets send the page language as customData.language
      rate_limit: {messages: 30, per_seconds: 60}   # per session; these are the defaults
      client_manager: lock_store   # optional, for several server processes (below)

Several server processes: a browser's socket lives on one of them, while a message for it may
be sent by another (an agent's reply through another replica's HTTP API). `client_manager`
gives the server python-socketio's Redis client manager, which publishes every emit on Redis
so that the process holding the socket delivers it, once:
- `lock_store`: the Redis of the endpoints file's lock store (the file is $BRIDGE_ENDPOINTS,
  else this channel's `endpoints`, else endpoints.yml); without a Redis lock store, this
  process only, as the rate limit counts (one process needs nothing else);
- a `redis://` or `rediss://` URL, e.g. `${BRIDGE_SOCKETIO_REDIS_URL}` (Rasa fills it in);
- unset: this process only.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot.channels.environment import endpoints_path
from bot.channels.message_text import MessageTextError, checked_text
from bot.channels.rate_limit import RateLimit, TooManyMessages

logger = logging.getLogger(__name__)

# `client_manager: lock_store`: the Redis of the lock store, when there is one.
LOCK_STORE_MANAGER = "lock_store"
# The Redis pub/sub channel of the emits (pub/sub is not per database: one per deployment).
MANAGER_CHANNEL = "bridge_socketio"

# The event a refused message gets instead of a reply: {"status": 400 or 429, "error": why}.
ERROR_EVENT = "bridge_error"
EXAMPLE_EVENT = '{"message": "Hello", "session_id": "..."}'


class BridgeSocketIOInput(SocketIOInput):
    """Rasa's SocketIOInput whose session requests really join the session's room."""

    @classmethod
    def name(cls) -> str:
        """Same name as Rasa's channel, so `output_channel=socketio` and "latest" find it."""
        return "socketio"

    rate_limit: RateLimit | None = None  # set from credentials.yml; the defaults when None
    client_manager: Any = None  # python-socketio's manager shared by processes; None: this one only

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> BridgeSocketIOInput:
        channel = super().from_credentials(credentials)
        channel.rate_limit = RateLimit.from_credentials(cls.name(), credentials, endpoints_path(credentials))
        channel.client_manager = client_manager_from_credentials(credentials)
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        rate_limit = self.rate_limit or RateLimit(self.name())
        if self.client_manager is not None:
            # Rasa builds the AsyncServer with the in-process manager; nothing is connected yet.
            sio.manager = self.client_manager
            sio.manager.set_server(sio)
            sio.manager_initialized = False

            @socketio_webhook.listener("before_server_start")
            async def listen_to_other_processes(*_: Any) -> None:
                # python-socketio subscribes on the first connection; a process whose first
                # socket has not come yet would miss what other processes send it until then.
                if not sio.manager_initialized:
                    sio.manager_initialized = True
                    sio.manager.initialize()

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

        # Registering an event again replaces Rasa's handler.
        sio.on("session_request", namespace=self.namespace)(session_request)
        rasa_handle_message = sio.handlers[self.namespace or "/"][self.user_message_evt]

        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                await self.refuse(sid, f"A {self.user_message_evt} event must be an object like {EXAMPLE_EVENT}.")
                return
            try:
                data = {**data, "message": checked_text(data.get("message"))}
            except MessageTextError as error:
                await self.refuse(sid, str(error))
                return
            metadata = data.get(self.metadata_key)
            if metadata is not None and not isinstance(metadata, dict):
                await self.refuse(sid, f'"{self.metadata_key}" must be an object, e.g. {{"language": "de"}}.')
                return
            try:
                rate_limit.check(data.get("session_id") if self.session_persistence else sid)
            except TooManyMessages as error:
                await self.refuse(sid, str(error), HTTPStatus.TOO_MANY_REQUESTS, retry_after=error.retry_after)
                return
            await rasa_handle_message(sid, data)

        sio.on(self.user_message_evt, namespace=self.namespace)(handle_message)
        return socketio_webhook

    async def refuse(self, sid: str, reason: str, status: int = HTTPStatus.BAD_REQUEST, **details: Any) -> None:
        """Tells the browser why its message was not answered (the socket.io side of a 4xx)."""
        await self.sio.emit(
            ERROR_EVENT, {"status": int(status), "error": reason, **details}, room=sid, namespace=self.namespace
        )


def client_manager_from_credentials(credentials: dict[str, Any] | None) -> Any:
    """The python-socketio client manager that `client_manager` names (module docstring), or None."""
    import socketio

    from bot.serving.redis_client import redis_lock_store, redis_url

    setting = (credentials or {}).get("client_manager")
    if setting is None or (isinstance(setting, str) and not setting.strip()):
        return None
    if setting == LOCK_STORE_MANAGER:
        lock_store = redis_lock_store(endpoints_path(credentials))
        if lock_store is None:
            logger.info("socket.io: no Redis lock store, so messages reach the sockets of this process only.")
            return None
        password = lock_store.kwargs.get("password")
        return socketio.AsyncRedisManager(
            redis_url(lock_store), channel=MANAGER_CHANNEL, redis_options={"password": password} if password else None
        )
    if isinstance(setting, str) and setting.strip().startswith(("redis://", "rediss://")):
        return socketio.AsyncRedisManager(setting.strip(), channel=MANAGER_CHANNEL)
    raise ValueError(
        f"socket.io: client_manager in credentials.yml must be {LOCK_STORE_MANAGER!r} or a redis:// URL, "
        f"got {setting!r}."
    )
