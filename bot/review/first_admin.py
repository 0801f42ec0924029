"""How a console without any agent gets its first admin, so a new user can log in.

In order:
1. BRIDGE_CONSOLE_ADMIN_EMAIL / BRIDGE_CONSOLE_ADMIN_PASSWORD: that admin is created;
2. the console's tables are in a local SQLite file (`bridge run` on a fresh checkout): a local
   admin is created with a random password, which is shown once, on the terminal that
   started the console, and is never stored or logged in clear;
3. otherwise (a shared database, e.g. PostgreSQL in production) nobody is created: a
   password nobody chose has no place there. The notice gives the command that creates one.

Example:
    >>> notice = prepare_first_admin(engine, ConsoleSettings.from_environment())
    >>> if notice: print(notice)
"""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine

from bot.review import accounts
from bot.review.settings import ConsoleSettings

LOCAL_ADMIN_EMAIL = "admin@bridge.localhost"
ADD_ADMIN_COMMAND = "BRIDGE_CONSOLE_AGENT_PASSWORD='…' bridge console add-agent you@example.com --role admin"


def prepare_first_admin(engine: Engine, settings: ConsoleSettings) -> str | None:
    """Creates the first admin as the module docstring says; returns what to tell the user, or None.

    Raises:
        AccountError: the admin from the environment cannot be created (e.g. a short password).
    """
    if accounts.has_agents(engine):
        return None
    if settings.admin_email and settings.admin_password:
        admin = accounts.ensure_first_admin(engine, settings.admin_email, settings.admin_password)
        return f"console: created the admin {admin.email} from BRIDGE_CONSOLE_ADMIN_EMAIL." if admin else None
    if settings.database_is_local:
        password = secrets.token_urlsafe(15)
        admin = accounts.create_agent(engine, LOCAL_ADMIN_EMAIL, password, role="admin")
        return (
            f"console: no agent existed, so a local admin was created. Log in with\n"
            f"    email     {admin.email}\n"
            f"    password  {password}\n"
            f"  This password is shown only now. Add your own accounts on the Agents page or with\n"
            f"    {ADD_ADMIN_COMMAND}"
        )
    return (
        "console: no agent can log in yet. Create the first admin with\n"
        f"    {ADD_ADMIN_COMMAND}\n"
        "  or set BRIDGE_CONSOLE_ADMIN_EMAIL and BRIDGE_CONSOLE_ADMIN_PASSWORD before starting the console."
    )
