"""A client of the Redis server a Rasa endpoint config (lock store, tracker store) names.

The channels keep what every replica must share (seen deliveries, rate-limit counts) in the
Redis the bot's lock store already uses, so they read its settings the way Rasa does.
"""

from __future__ import annotations

from pathlib import Path
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


def redis_url(config: Any) -> str:
    """The redis:// (rediss:// with `use_ssl`) URL of `config`, without its password."""
    options = config.kwargs
    scheme = "rediss" if options.get("use_ssl") else "redis"
    return f"{scheme}://{config.url or 'localhost'}:{int(options.get('port') or 6379)}/{int(options.get('db') or 0)}"


def redis_lock_store(endpoints: Path | None) -> Any:
    """The lock store's EndpointConfig when the `endpoints` file configures a Redis one, else None."""
    from rasa.core.utils import read_endpoints_from_path

    available = read_endpoints_from_path(endpoints) if endpoints and Path(endpoints).is_file() else None
    lock_store = available.lock_store if available else None
    return lock_store if lock_store is not None and lock_store.type == "redis" else None
