"""Fills the demo shop's orders table with a fixed set of orders, so demos and tests agree.

The action server seeds the shop's database the first time an action looks up an order
(`demo_order_repository`), so `bridge run`, the Docker image and the tests need no
separate setup step.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from actions.services.shop_db import OrderRepository, engine_for, orders, shop_db_url

# (order number, status, delivery date: expected for shipped, actual for delivered)
DEMO_ORDERS: list[tuple[str, str, dt.date | None]] = [
    ("10045", "shipped", dt.date(2026, 12, 3)),
    ("10046", "delivered", dt.date(2026, 11, 20)),
    ("10047", "processing", None),
    ("10048", "cancelled", None),
    ("10052", "shipped", dt.date(2026, 12, 5)),
    ("10063", "delivered", dt.date(2026, 11, 27)),
    ("10071", "processing", None),
    ("20017", "shipped", dt.date(2026, 12, 2)),
    ("20033", "delivered", dt.date(2026, 11, 18)),
    ("20058", "processing", None),
]


def seed_demo_orders(url: str | None = None) -> int:
    """Inserts the demo orders that are missing; returns how many were added."""
    engine = engine_for(url or shop_db_url())
    with engine.begin() as connection:
        existing = {row[0] for row in connection.execute(sa.select(orders.c.order_id))}
        missing = [
            {
                "order_id": number,
                "status": status,
                "delivery_date": date,
                "customer_email": f"customer{number}@example.com",
            }
            for number, status, date in DEMO_ORDERS
            if number not in existing
        ]
        if missing:
            connection.execute(orders.insert(), missing)
    return len(missing)


def demo_order_repository(url: str | None = None) -> OrderRepository:
    """The orders of the shop's database (`url`, else BRIDGE_SHOP_DB_URL or var/shop.db),
    with the demo orders added first if they are missing."""
    url = url or shop_db_url()
    seed_demo_orders(url)
    return OrderRepository(url)
