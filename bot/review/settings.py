"""One typed settings object for the review console, read from the environment and endpoints.yml.

Environment variables:
    BRIDGE_CONSOLE_TRACKER_URL      SQLAlchemy URL of Rasa's tracker store (default: the
                                    `tracker_store` of endpoints.yml, SQLite var/tracker.db)
    BRIDGE_CONSOLE_DATABASE_URL     the console's own tables (default: the tracker store's URL)
    BRIDGE_CONSOLE_SECRET           signs the session cookies; required unless the tracker store is
                                    a local SQLite file (then a random key lives as long as the process)
    BRIDGE_CONSOLE_ADMIN_EMAIL      with BRIDGE_CONSOLE_ADMIN_PASSWORD: the first admin, created at
                                    start when no agent exists yet
    BRIDGE_CONSOLE_HANDOFF_ACTIONS  comma-separated actions that hand a conversation to a human
    BRIDGE_CONSOLE_LOW_CONFIDENCE   intent confidence under which a turn counts as low (default 0.5)
    BRIDGE_CONSOLE_HTTPS            "1": session cookies only over HTTPS (set it behind TLS)

The bot's translation settings (endpoints.yml `nlg` -> `translation`: memory and backends) are
read from the same file, so agents read customers' texts through the bot's own memory and
models, and their translation corrections go into the memory the bot reads.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.serving.tracker_database import sql_tracker_store_url

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINTS = Path("endpoints.yml")
DEFAULT_TRACKER_URL = "sqlite:///var/tracker.db"
DEFAULT_HANDOFF_ACTIONS = ("action_handoff_to_human",)


class ConsoleSettingsError(ValueError):
    """A console setting is missing or invalid; the message names the variable to set."""


@dataclass(frozen=True)
class ConsoleSettings:
    """Everything the console needs to run.

    :param tracker_url: SQLAlchemy URL of the Rasa tracker store whose `events` table is read.
    :param database_url: SQLAlchemy URL of the console's own tables.
    :param secret_key: key that signs session cookies.
    :param admin_email: the first admin's email, or None.
    :param admin_password: the first admin's password, or None.
    :param handoff_actions: action names that mean "handed to a human".
    :param low_confidence: a turn whose intent confidence is below this counts as low.
    :param https_only: send the session cookie only over HTTPS.
    :param translation: the bot's translation settings (see bot/translation/pipeline.py), or None
        when the bot translates nothing.
    """

    tracker_url: str
    database_url: str
    secret_key: str
    admin_email: str | None = None
    admin_password: str | None = None
    handoff_actions: tuple[str, ...] = DEFAULT_HANDOFF_ACTIONS
    low_confidence: float = 0.5
    https_only: bool = False
    translation: Mapping[str, Any] | None = None

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, endpoints: Path = DEFAULT_ENDPOINTS, serving: bool = True
    ) -> ConsoleSettings:
        """Reads the settings; raises ConsoleSettingsError naming the variable to fix.

        `serving=False` (commands that only touch the database) needs no secret key.

        Example:
            settings = ConsoleSettings.from_environment()
        """
        env = os.environ if environ is None else environ
        tracker_url = env.get("BRIDGE_CONSOLE_TRACKER_URL") or tracker_url_from_endpoints(endpoints)
        secret_key = env.get("BRIDGE_CONSOLE_SECRET", "")
        if not secret_key:
            if serving and not tracker_url.startswith("sqlite"):
                raise ConsoleSettingsError(
                    "BRIDGE_CONSOLE_SECRET is not set: the console signs its session cookies with it. "
                    "Set it to a long random string, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."
                )
            if serving:
                logger.warning("BRIDGE_CONSOLE_SECRET is not set: a random key signs sessions until the console stops.")
            secret_key = secrets.token_hex(32)
        try:
            low_confidence = float(env.get("BRIDGE_CONSOLE_LOW_CONFIDENCE", "0.5"))
        except ValueError as error:
            raise ConsoleSettingsError(f"BRIDGE_CONSOLE_LOW_CONFIDENCE must be a number in [0, 1]: {error}") from None
        if not 0.0 <= low_confidence <= 1.0:
            raise ConsoleSettingsError(f"BRIDGE_CONSOLE_LOW_CONFIDENCE must be in [0, 1], not {low_confidence}.")
        handoff = tuple(a.strip() for a in env.get("BRIDGE_CONSOLE_HANDOFF_ACTIONS", "").split(",") if a.strip())
        admin_email = env.get("BRIDGE_CONSOLE_ADMIN_EMAIL") or None
        admin_password = env.get("BRIDGE_CONSOLE_ADMIN_PASSWORD") or None
        if bool(admin_email) != bool(admin_password):
            raise ConsoleSettingsError(
                "Set both BRIDGE_CONSOLE_ADMIN_EMAIL and BRIDGE_CONSOLE_ADMIN_PASSWORD (or neither) "
                "to create the first admin."
            )
        return cls(
            tracker_url=tracker_url,
            database_url=env.get("BRIDGE_CONSOLE_DATABASE_URL") or tracker_url,
            secret_key=secret_key,
            admin_email=admin_email,
            admin_password=admin_password,
            handoff_actions=handoff or DEFAULT_HANDOFF_ACTIONS,
            low_confidence=low_confidence,
            https_only=env.get("BRIDGE_CONSOLE_HTTPS", "") == "1",
            translation=translation_settings_from_endpoints(endpoints),
        )

    @property
    def database_is_local(self) -> bool:
        """Whether the console's tables are in a SQLite file on this machine (the demo's set-up)."""
        return self.database_url.startswith("sqlite")


def _endpoint_config(endpoints: Path, key: str):
    """The `key` section of `endpoints`, read and substituted as Rasa reads it (None when absent)."""
    if not endpoints.is_file():
        return None
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import read_endpoint_config

    try:
        return read_endpoint_config(str(endpoints), key)
    except RasaException as error:
        raise ConsoleSettingsError(f"{endpoints}: {error} Or set BRIDGE_CONSOLE_TRACKER_URL.") from None


def translation_settings_from_endpoints(endpoints: Path = DEFAULT_ENDPOINTS) -> dict[str, Any] | None:
    """The `translation` settings of the NLG in `endpoints`, checked; None when the bot translates nothing."""
    from bot.translation.base import TranslationConfigError
    from bot.translation.pipeline import read_settings

    config = _endpoint_config(endpoints, "nlg")
    translation = (config.kwargs or {}).get("translation") if config is not None else None
    if translation is None:
        return None
    try:
        return read_settings(translation)
    except TranslationConfigError as error:
        raise ConsoleSettingsError(f"{endpoints}: nlg.{error}") from None


def tracker_url_from_endpoints(endpoints: Path = DEFAULT_ENDPOINTS) -> str:
    """The SQLAlchemy URL of the SQL tracker store configured in `endpoints` (Rasa's own reading).

    Environment variables in the file are substituted as Rasa does; no file or no tracker store
    means Rasa's SQLite default for Bridge, var/tracker.db.
    """
    config = _endpoint_config(endpoints, "tracker_store")
    if config is None:
        return DEFAULT_TRACKER_URL
    if str(config.type).upper() != "SQL":
        raise ConsoleSettingsError(
            f"{endpoints}: the console reads an SQL tracker store, not type '{config.type}'. "
            "Use `type: SQL` or set BRIDGE_CONSOLE_TRACKER_URL."
        )
    return sql_tracker_store_url(config)
