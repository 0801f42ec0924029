"""The demo bot served with endpoints.production.yml on the machine's services.

PostgreSQL (tracker store, translation memory), the Redis lock store and RabbitMQ, all on
loopback, configured only through the environment variables the file reads, as a container
would be. Several stacks on one database are replicas of one deployment.
"""

from __future__ import annotations

from pathlib import Path

from bot.serving.processes import BotStack, free_port
from tests.conftest import PROJECT_DIR
from tests.helpers.postgres import SHARED_PORT, USER


def production_environment(database: str, action_port: int, shop_db_url: str) -> dict[str, str]:
    """The variables endpoints.production.yml reads, for the loopback services."""
    return {
        "BRIDGE_SHOP_DB_URL": shop_db_url,
        "BRIDGE_ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "BRIDGE_POSTGRES_HOST": "127.0.0.1",
        "BRIDGE_POSTGRES_PORT": str(SHARED_PORT),
        "BRIDGE_POSTGRES_DB": database,
        "BRIDGE_POSTGRES_USER": USER,
        "BRIDGE_POSTGRES_PASSWORD": "",
        "BRIDGE_REDIS_HOST": "127.0.0.1",
        "BRIDGE_REDIS_PORT": "6379",
        "BRIDGE_REDIS_PASSWORD": "",
        "BRIDGE_RABBITMQ_HOST": "127.0.0.1",
        "BRIDGE_RABBITMQ_USER": "guest",
        "BRIDGE_RABBITMQ_PASSWORD": "guest",
    }


def production_stack(model: Path, database: str, shop_db_url: str, log_dir: Path) -> BotStack:
    """A Rasa server and action server on free ports with endpoints.production.yml (not started)."""
    action_port = free_port()
    return BotStack(
        project_dir=PROJECT_DIR,
        model=model,
        endpoints=PROJECT_DIR / "endpoints.production.yml",
        rasa_port=free_port(),
        action_port=action_port,
        chat_port=None,
        log_dir=log_dir,
        env=production_environment(database, action_port, shop_db_url),
    )
