"""A client of the Redis server a Rasa endpoint config (lock store, tracker store) names.

The channels keep what every replica must share (seen deliveries, rate-limit counts) in the
Redis the bot's lock store already uses, so they read its settings the way Rasa does.
"""

from __future__ import annotations

from typing import Any


def redis_from_endpoint(config: Any) -> Any:
    """A `redis.StrictRedis` for `config` (an EndpointConfig of type redis), Rasa's defaults kept."""
    import redis

    options = config.kwargs
    return redis.StrictRedis(
        host=config.url or "localhost",
        port=int(options.get("port") or 6379),
        db=int(options.get("db") or 0),
        password=options.get("password"),
        ssl=bool(options.get("use_ssl", False)),
    )
