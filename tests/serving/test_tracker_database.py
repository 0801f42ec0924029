"""The console and the channels open the tracker store's database exactly as Rasa does."""

from rasa.utils.endpoints import EndpointConfig

from bot.serving.tracker_database import sql_tracker_store_url


def test_a_sqlite_tracker_store_is_its_file():
    config = EndpointConfig(type="SQL", dialect="sqlite", db="var/tracker.db")
    assert sql_tracker_store_url(config) == "sqlite:///var/tracker.db"


def test_a_postgresql_tracker_store_keeps_its_credentials_in_the_url():
    config = EndpointConfig(
        url="db.internal", type="SQL", dialect="postgresql", port=5432, db="rasa", username="bot", password="s3cret"
    )
    assert sql_tracker_store_url(config) == "postgresql://bot:s3cret@db.internal:5432/rasa"
