"""A real Rasa server with the Slack and Telegram channels open, talking to fake platform APIs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PROJECT_DIR
from tests.helpers.fake_platforms import FakeApi, fake_slack, fake_telegram

SLACK_SIGNING_SECRET = "test-slack-signing-secret"
SLACK_BOT_TOKEN = "xoxb-test-bot-token"
TELEGRAM_BOT_TOKEN = "123456:test-telegram-token"
TELEGRAM_WEBHOOK_SECRET = "test-telegram-webhook-secret"
# Slack users of the tests and their Slack locales (what users.info tells).
SLACK_LOCALES = {"USPANISH": "es-ES", "UENGLISH": "en-US", "UBUTTON": "es-ES"}


@dataclass
class ChannelStack:
    """The running server, the fake APIs and the tracker database the server writes."""

    stack: object
    slack: FakeApi
    telegram: FakeApi
    tracker_db: Path

    @property
    def rasa_url(self) -> str:
        return self.stack.rasa_url

    def stored_events(self, sender_id: str) -> list[dict]:
        """Every event the tracker store holds for `sender_id` (read from its database)."""
        engine = sa.create_engine(f"sqlite:///{self.tracker_db}")
        try:
            with engine.connect() as connection:
                if not sa.inspect(connection).has_table("events"):
                    return []
                rows = connection.execute(
                    sa.text("SELECT type_name, data FROM events WHERE sender_id = :sender"), {"sender": sender_id}
                )
                return [{"event": row[0], "data": row[1]} for row in rows]
        finally:
            engine.dispose()

    def user_turns(self, sender_id: str) -> int:
        return sum(1 for event in self.stored_events(sender_id) if event["event"] == "user")


def platform_env(slack: FakeApi, telegram: FakeApi) -> dict[str, str]:
    """The environment that opens the Slack and Telegram channels on the fake platform APIs."""
    return {
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_API_URL": f"{slack.url}/api/",
        "TELEGRAM_BOT_TOKEN": TELEGRAM_BOT_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_WEBHOOK_SECRET,
        "TELEGRAM_API_URL": telegram.url,
    }


@pytest.fixture(scope="session")
def channel_stack(
    demo_model: Path, shop_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChannelStack]:
    from bot.serving.processes import BotStack, free_port, write_endpoints

    slack, telegram = fake_slack(SLACK_LOCALES).start(), fake_telegram().start()
    work = tmp_path_factory.mktemp("channel-stack")
    action_port, tracker_db = free_port(), work / "tracker.db"
    endpoints = write_endpoints(PROJECT_DIR / "endpoints.yml", work / "endpoints.yml", action_port, tracker_db)
    env = {"BRIDGE_SHOP_DB_URL": shop_db_url, "BRIDGE_ENDPOINTS": str(endpoints), **platform_env(slack, telegram)}
    stack = BotStack.on_free_port(PROJECT_DIR, demo_model, endpoints, action_port, work / "logs", env)
    stack.start()
    yield ChannelStack(stack, slack, telegram, tracker_db)
    stack.stop()
    slack.stop()
    telegram.stop()
