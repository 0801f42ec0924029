"""Hand-off settings from the environment: support hours, counts and URLs, with clear errors."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handoff.settings import HandoffSettings, HandoffSettingsError, SupportHours


def test_defaults_are_always_open_with_the_shop_database():
    settings = HandoffSettings.from_environment({"BRIDGE_SHOP_DB_URL": "sqlite:///shop.db"})
    assert settings.db_url == "sqlite:///shop.db" and settings.is_open()
    assert (settings.wait_minutes, settings.claim_minutes, settings.after_fallbacks) == (5, 15, 2)


def test_support_hours_in_a_time_zone():
    hours = SupportHours.parse("mon-fri 08:00-18:00 Europe/Lisbon")
    wednesday_noon = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.timezone.utc)
    assert hours.is_open(wednesday_noon)
    assert not hours.is_open(wednesday_noon.replace(hour=19))
    assert not hours.is_open(dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.timezone.utc))  # a Saturday


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("BRIDGE_HANDOFF_HOURS", "9 to 5", "is not like"),
        ("BRIDGE_HANDOFF_HOURS", "mon-fri 08:00-18:00 Mars/Olympus", "unknown time zone"),
        ("BRIDGE_HANDOFF_WAIT_MINUTES", "soon", "whole number"),
        ("BRIDGE_RASA_URLS", "rasa:5005", "not an http"),
    ],
)
def test_bad_settings_name_the_variable(variable, value, message):
    with pytest.raises(HandoffSettingsError, match=message) as error:
        HandoffSettings.from_environment({variable: value})
    assert variable in str(error.value) or "BRIDGE_HANDOFF_HOURS" in str(error.value)
