"""Agents of the console: creation, password checks with argon2, and throttled logins.

Passwords are hashed with argon2id (argon2-cffi). Failed logins are stored in the database and
counted over a sliding window, per email and per client address, so guessing is slowed down
across every console process and survives restarts.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from bot.review.database import agents, login_failures

ROLES = ("agent", "admin")
MIN_PASSWORD_LENGTH = 10
THROTTLE_WINDOW_SECONDS = 15 * 60
# A person mistyping stays well under these; a guesser is stopped after a handful of tries.
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


class AccountError(ValueError):
    """An agent cannot be created as asked; the message says what to change."""


class LoginThrottled(Exception):
    """Too many recent failed logins for this email or client address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed logins. Try again in {max(1, retry_after // 60)} minutes.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Agent:
    """A logged-in person: `role` is agent or admin, `language` the ISO 639-1 code they read."""

    id: int
    email: str
    role: str
    language: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _agent(row: sa.engine.Row) -> Agent:
    return Agent(id=row.id, email=row.email, role=row.role, language=row.language)


def create_agent(engine: Engine, email: str, password: str, role: str = "agent", language: str = "en") -> Agent:
    """Stores a new agent with a hashed password.

    Raises:
        AccountError: bad email, role, language or a too short password, or the email exists.
    """
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise AccountError(f"'{email}' is not an email address.")
    if role not in ROLES:
        raise AccountError(f"Role '{role}' does not exist; choose one of: {', '.join(ROLES)}.")
    if not _LANGUAGE.match(language):
        raise AccountError(f"Language '{language}' is not an ISO 639-1 code such as 'en' or 'pt'.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    with engine.begin() as connection:
        if connection.execute(sa.select(agents.c.id).where(agents.c.email == email)).first():
            raise AccountError(f"An agent with email {email} already exists.")
        result = connection.execute(
            agents.insert().values(
                email=email, password_hash=_hasher.hash(password), role=role, language=language, created_at=time.time()
            )
        )
        return Agent(id=result.inserted_primary_key[0], email=email, role=role, language=language)


def agent_by_id(engine: Engine, agent_id: int) -> Agent | None:
    """The agent with this id, or None (e.g. deleted since the session began)."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(agents).where(agents.c.id == agent_id)).first()
    return _agent(row) if row else None


def list_agents(engine: Engine) -> list[Agent]:
    with engine.connect() as connection:
        return [_agent(row) for row in connection.execute(sa.select(agents).order_by(agents.c.email))]


def has_agents(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(sa.select(agents.c.id).limit(1)).first() is not None


def authenticate(engine: Engine, email: str, password: str, client: str, now: float | None = None) -> Agent | None:
    """The agent if `password` is right, else None; every failure is recorded.

    Raises:
        LoginThrottled: too many recent failures for the email or the client address; the
            password is not even checked, so guessing gains nothing.
    """
    now = time.time() if now is None else now
    email = email.strip().lower()
    since = now - THROTTLE_WINDOW_SECONDS
    with engine.begin() as connection:
        for column, value, limit in (
            (login_failures.c.email, email, MAX_FAILURES_PER_EMAIL),
            (login_failures.c.client, client, MAX_FAILURES_PER_CLIENT),
        ):
            count, oldest = connection.execute(
                sa.select(sa.func.count(), sa.func.min(login_failures.c.at)).where(
                    column == value, login_failures.c.at > since
                )
            ).one()
            if count >= limit:
                raise LoginThrottled(retry_after=int(oldest + THROTTLE_WINDOW_SECONDS - now))
        row = connection.execute(sa.select(agents).where(agents.c.email == email)).first()
        if row is not None and _password_matches(row.password_hash, password):
            connection.execute(login_failures.delete().where(login_failures.c.email == email))
            return _agent(row)
        connection.execute(login_failures.insert().values(email=email, client=client, at=now))
        return None


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def ensure_first_admin(engine: Engine, email: str | None, password: str | None) -> Agent | None:
    """Creates the admin from the environment when the console has no agent yet."""
    if not email or not password or has_agents(engine):
        return None
    return create_agent(engine, email, password, role="admin")
