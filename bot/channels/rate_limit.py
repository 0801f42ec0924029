"""A per-sender rate limit for the public channels: at most `messages` per `per_seconds`.

Each channel counts the messages of each sender (the REST `sender`, the socket.io session, the
Slack user, the Telegram user) in fixed windows of `per_seconds`. A message over the limit is
not processed nor stored; it gets an HTTP 429 with a `Retry-After` header (socket.io: a
`bridge_error` event with status 429 and `retry_after`), saying when the window ends.

Where the counts live:
- in Redis when endpoints.yml configures a Redis lock store: every replica behind the load
  balancer then shares them (INCR + EXPIRE on one key per sender and window);
- otherwise in the process: right for one server process, while each of several processes
  without Redis would let a sender through `messages` times in each.

credentials.yml, under any public channel (the defaults shown; `messages: 0` turns it off):

    bot.channels.rest.BridgeRestInput:
      rate_limit: {messages: 30, per_seconds: 60}
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanic import response
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

DEFAULT_MESSAGES = 30
DEFAULT_PER_SECONDS = 60
REDIS_PREFIX = "bridge:rate_limit:"


class TooManyMessages(SanicException):
    """A sender over the limit: HTTP 429 with Retry-After (Sanic sends an exception's `headers`)."""

    status_code = 429
    quiet = True

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason, status_code=429)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


def too_many_response(error: TooManyMessages) -> HTTPResponse:
    """The 429 of a refused message, in the JSON shape of Rasa's error responses."""
    body = {"status": "failure", "reason": "Too Many Requests", "message": str(error), "code": 429}
    return response.json(body, status=429, headers=error.headers)


class LocalCounter:
    """Counts per key and window in this process."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def increment(self, key: str, expire_seconds: int) -> int:
        with self._lock:
            if len(self._counts) > 100_000:  # keys of past windows: drop them all, now and then
                current = key.rsplit(":", 1)[-1]
                self._counts = {k: v for k, v in self._counts.items() if k.endswith(":" + current)}
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]


class RedisCounter:
    """Counts per key and window in Redis, shared by every process that uses the same Redis."""

    def __init__(self, client: Any) -> None:
        self.redis = client

    def increment(self, key: str, expire_seconds: int) -> int:
        pipeline = self.redis.pipeline()
        pipeline.incr(REDIS_PREFIX + key)
        pipeline.expire(REDIS_PREFIX + key, expire_seconds)
        count, _ = pipeline.execute()
        return int(count)


@dataclass
class RateLimit:
    """At most `messages` per sender in each window of `per_seconds` (0 messages: no limit).

    Example:
        >>> limit = RateLimit("rest", messages=2, per_seconds=60)
        >>> limit.check("customer-1"); limit.check("customer-1")
        >>> limit.check("customer-1")
        Traceback (most recent call last):
        ...
        bot.channels.rate_limit.TooManyMessages: Too many messages from this sender ...
    """

    channel: str
    messages: int = DEFAULT_MESSAGES
    per_seconds: int = DEFAULT_PER_SECONDS
    counter: Any = field(default_factory=LocalCounter)

    @classmethod
    def from_credentials(cls, channel: str, credentials: dict[str, Any] | None, endpoints: Path) -> RateLimit:
        """The limit that credentials.yml sets for `channel` (defaults when unset), counted in
        Redis when `endpoints` configures a Redis lock store."""
        settings = (credentials or {}).get("rate_limit")
        settings = {} if settings is None else settings
        if not isinstance(settings, dict):
            raise ValueError(
                f"Channel '{channel}': 'rate_limit' in credentials.yml must be a mapping like "
                f"{{messages: {DEFAULT_MESSAGES}, per_seconds: {DEFAULT_PER_SECONDS}}}, got {settings!r}."
            )
        messages = settings.get("messages", DEFAULT_MESSAGES)
        per_seconds = settings.get("per_seconds", DEFAULT_PER_SECONDS)
        for key, value, least in (("messages", messages, 0), ("per_seconds", per_seconds, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(
                    f"Channel '{channel}': rate_limit.{key} in credentials.yml must be an integer >= {least}, "
                    f"got {value!r}."
                )
        return cls(channel, messages, per_seconds, counter_for(endpoints))

    def check(self, sender: Any) -> None:
        """Counts one message of `sender`; raises TooManyMessages when it is over the limit."""
        if not self.messages:
            return
        now = time.time()
        window = int(now // self.per_seconds)
        count = self.counter.increment(f"{self.channel}:{sender}:{window}", self.per_seconds + 1)
        if count > self.messages:
            retry_after = max(1, math.ceil((window + 1) * self.per_seconds - now))
            logger.info(f"Channel '{self.channel}': sender over {self.messages} messages per {self.per_seconds} s.")
            raise TooManyMessages(
                f"Too many messages from this sender: at most {self.messages} every {self.per_seconds} seconds "
                f"are answered. Wait {retry_after} s (Retry-After) and send it again.",
                retry_after,
            )


def counter_for(endpoints: Path | None) -> LocalCounter | RedisCounter:
    """Redis when `endpoints` configures a Redis lock store, else this process's own counts."""
    from bot.serving.redis_client import redis_from_endpoint, redis_lock_store

    lock_store = redis_lock_store(endpoints)
    return RedisCounter(redis_from_endpoint(lock_store)) if lock_store is not None else LocalCounter()
