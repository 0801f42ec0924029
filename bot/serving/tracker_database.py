"""The SQLAlchemy URL of a SQL tracker store's database, built from its endpoint config.

The review console and the channels' seen-event store live beside Rasa's tracker store, so
they must find its database exactly as Rasa does: this asks Rasa's own URL builder.
"""

from __future__ import annotations

from typing import Any


def sql_tracker_store_url(config: Any) -> str:
    """The database URL Rasa's SQLTrackerStore opens for `config` (an EndpointConfig).

    Example:
        >>> from rasa.utils.endpoints import EndpointConfig
        >>> sql_tracker_store_url(EndpointConfig(type="SQL", dialect="sqlite", db="var/tracker.db"))
        'sqlite:///var/tracker.db'
    """
    from rasa.core.tracker_store import SQLTrackerStore

    options = config.kwargs
    url = SQLTrackerStore.get_db_url(
        dialect=options.get("dialect", "sqlite"),
        host=config.url,
        port=options.get("port"),
        db=options.get("db", "rasa.db"),
        username=options.get("username"),
        password=options.get("password"),
        query=options.get("query"),
    )
    # Rasa returns a plain string for SQLite and a SQLAlchemy URL otherwise.
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)
