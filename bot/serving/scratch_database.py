"""Throw-away PostgreSQL databases on a server on loopback, for benchmarks and tests.

`bridge bench load` and the integration tests run Rasa on PostgreSQL the way production
does (endpoints.production.yml), each in a database of its own on the machine's server,
dropped afterwards even when a killed server left connections open.

Example:
    >>> with scratch_database("bench_load") as name:
    ...     ...  # postgresql://postgres@127.0.0.1:5432/<name>
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
PORT = 5432
USER = "postgres"


def admin(statement: str, port: int = PORT) -> None:
    """Runs one statement outside a transaction (CREATE/DROP DATABASE) as the postgres user."""
    import psycopg2

    connection = psycopg2.connect(host=HOST, port=port, user=USER, dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@contextmanager
def scratch_database(prefix: str, port: int = PORT) -> Iterator[str]:
    """A new empty database named `prefix` and a random suffix; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin(f"CREATE DATABASE {name}", port)
    try:
        yield name
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", port)
