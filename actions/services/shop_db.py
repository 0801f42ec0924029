"""The demo shop's database: its orders, through SQLAlchemy (hand-off tickets: bot/handoff/queue.py).

SQLite by default (var/shop.db); any SQLAlchemy URL in BRIDGE_SHOP_DB_URL works, e.g. a
PostgreSQL database in production. Engines are created on first use, never at import.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

DEFAULT_SHOP_DB_URL = "sqlite:///var/shop.db"

metadata = sa.MetaData()

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.String(16), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # processing|shipped|delivered|cancelled
    sa.Column("delivery_date", sa.Date, nullable=True),
    sa.Column("customer_email", sa.String(254), nullable=False),
)

ORDER_STATUSES = ("processing", "shipped", "delivered", "cancelled")


def shop_db_url() -> str:
    """The shop database URL from the environment, or the embedded SQLite default."""
    return os.environ.get("BRIDGE_SHOP_DB_URL", DEFAULT_SHOP_DB_URL)


@functools.lru_cache(maxsize=8)
def engine_for(url: str) -> sa.engine.Engine:
    """One engine per database URL; creates the SQLite folder and the tables if missing."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, future=True)
    metadata.create_all(engine)
    return engine


@dataclass(frozen=True)
class Order:
    """One order as the support bot may tell the customer about it."""

    order_id: str
    status: str
    delivery_date: dt.date | None


class OrderRepository:
    """Reads orders by number."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = engine_for(url or shop_db_url())

    def get(self, order_id: str) -> Order | None:
        """The order with this number, or None if the shop has none."""
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(orders).where(orders.c.order_id == order_id)).first()
        return Order(row.order_id, row.status, row.delivery_date) if row else None
