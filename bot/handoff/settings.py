"""One typed settings object for the hand-off, read from the environment.

Both sides read it: the action server (when to hand off, what to tell the customer) and the
console (where the queue and the Rasa servers are).

Environment variables:
    BRIDGE_HANDOFF_DB_URL            SQLAlchemy URL of the queue (default: the shop database,
                                     BRIDGE_SHOP_DB_URL, else sqlite:///var/shop.db)
    BRIDGE_HANDOFF_WAIT_MINUTES      how long a person usually takes to answer, told to the customer (5)
    BRIDGE_HANDOFF_CLAIM_MINUTES     after this long unclaimed, the customer is told nobody is free
                                     and the bot resumes (15)
    BRIDGE_HANDOFF_AFTER_FALLBACKS   this many "I did not understand" in a row hand off (2; 0: never)
    BRIDGE_HANDOFF_HOURS             support hours, e.g. "mon-fri 08:00-18:00 Europe/Lisbon"
                                     (empty: always open)
    BRIDGE_RASA_URLS                 comma-separated Rasa server URLs the console talks to; the
                                     next is tried when one does not answer (http://127.0.0.1:5005)
    BRIDGE_RASA_TOKEN                the Rasa HTTP API's token (`rasa run --auth-token`)
    BRIDGE_HANDOFF_REST_CALLBACK_URL where agents' messages to REST customers are POSTed
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DB_URL = "sqlite:///var/shop.db"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_PATTERN = re.compile(
    r"^\s*(?:(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+)?(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)(?:\s+(?P<zone>\S+))?\s*$"
)
HOURS_EXAMPLE = '"mon-fri 08:00-18:00 Europe/Lisbon"'


class HandoffSettingsError(ValueError):
    """A hand-off setting is invalid; the message names the variable and an example."""


@dataclass(frozen=True)
class SupportHours:
    """The days and times a person can take over, in one time zone."""

    days: tuple[int, ...]  # Monday is 0
    start: dt.time
    end: dt.time
    zone: str = "UTC"

    @classmethod
    def parse(cls, text: str) -> SupportHours:
        """Reads e.g. "mon-fri 08:00-18:00 Europe/Lisbon" (days and zone optional)."""
        match = HOURS_PATTERN.match(text.lower() if text else "")
        if not match:
            raise HandoffSettingsError(f"BRIDGE_HANDOFF_HOURS={text!r} is not like {HOURS_EXAMPLE}.")
        first, last = match["first"] or "mon", match["last"] or match["first"] or "sun"
        if first not in DAYS or last not in DAYS:
            raise HandoffSettingsError(f"BRIDGE_HANDOFF_HOURS: days are {', '.join(DAYS)}, not {first!r}/{last!r}.")
        a, b = DAYS.index(first), DAYS.index(last)
        days = tuple(range(a, b + 1)) if a <= b else (*range(a, 7), *range(0, b + 1))
        try:
            start, end = dt.time.fromisoformat(match["start"]), dt.time.fromisoformat(match["end"])
        except ValueError as error:
            raise HandoffSettingsError(f"BRIDGE_HANDOFF_HOURS={text!r}: {error}.") from None
        zone = text.split()[-1] if match["zone"] else "UTC"
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise HandoffSettingsError(
                f"BRIDGE_HANDOFF_HOURS: unknown time zone {zone!r}, e.g. Europe/Lisbon."
            ) from None
        return cls(days, start, end, zone)

    def is_open(self, when: dt.datetime | None = None) -> bool:
        """Whether `when` (an aware datetime; default now) falls in the support hours."""
        local = (when or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(self.zone))
        return local.weekday() in self.days and self.start <= local.time() < self.end


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HandoffSettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 0:
        raise HandoffSettingsError(f"{name} must be 0 or more, not {value}.")
    return value


@dataclass(frozen=True)
class HandoffSettings:
    """Everything the hand-off needs.

    :param db_url: SQLAlchemy URL of the queue's database.
    :param wait_minutes: the usual time until a person answers, told to the customer.
    :param claim_minutes: after this long unclaimed the bot tells the customer and resumes.
    :param after_fallbacks: consecutive fallbacks that hand off (0: never).
    :param support_hours: when a person can take over (None: always).
    :param rasa_urls: the Rasa servers the console reaches, tried in order.
    :param rasa_token: the Rasa HTTP API's token, or None.
    :param rest_callback_url: where agents' messages for REST customers are POSTed, or None.
    """

    db_url: str = DEFAULT_DB_URL
    wait_minutes: int = 5
    claim_minutes: int = 15
    after_fallbacks: int = 2
    support_hours: SupportHours | None = None
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_token: str | None = None
    rest_callback_url: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> HandoffSettings:
        """Reads the settings; raises HandoffSettingsError naming the variable to fix.

        Example:
            settings = HandoffSettings.from_environment()
        """
        env = os.environ if environ is None else environ
        hours = env.get("BRIDGE_HANDOFF_HOURS", "").strip()
        urls = tuple(u.strip().rstrip("/") for u in env.get("BRIDGE_RASA_URLS", "").split(",") if u.strip())
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise HandoffSettingsError(f"BRIDGE_RASA_URLS: {url!r} is not an http(s) URL.")
        return cls(
            db_url=env.get("BRIDGE_HANDOFF_DB_URL") or env.get("BRIDGE_SHOP_DB_URL") or DEFAULT_DB_URL,
            wait_minutes=_positive_int(env, "BRIDGE_HANDOFF_WAIT_MINUTES", 5),
            claim_minutes=_positive_int(env, "BRIDGE_HANDOFF_CLAIM_MINUTES", 15),
            after_fallbacks=_positive_int(env, "BRIDGE_HANDOFF_AFTER_FALLBACKS", 2),
            support_hours=SupportHours.parse(hours) if hours else None,
            rasa_urls=urls or cls.rasa_urls,
            rasa_token=env.get("BRIDGE_RASA_TOKEN") or None,
            rest_callback_url=env.get("BRIDGE_HANDOFF_REST_CALLBACK_URL") or None,
        )

    def is_open(self, when: dt.datetime | None = None) -> bool:
        """Whether a person can take over now (always, without support hours)."""
        return self.support_hours is None or self.support_hours.is_open(when)
